// docker-compose.yml, the Dockerfile and the Prometheus config against each other and the pipeline:
// `docker-compose config` accepts the file, every member of infra/pipeline/members.ts runs as a service
// (with the settings the member needs) and is scraped, start order goes by health, and the image runs
// what ./tributary runs. No container engine here: this is what can be checked without one.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PIPELINE_MEMBERS } from '../pipeline/members.ts';
import { REPO_ROOT } from '../pipeline/processor-process.ts';

interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
}
interface ScrapeConfig {
  job_name: string;
  static_configs: { targets: string[] }[];
}

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const prometheus = parse(read('infra/compose/prometheus/prometheus.yml')) as {
  scrape_configs: ScrapeConfig[];
};
const dockerfile = read('Dockerfile');
const imageEnv = (key: string): string | undefined => new RegExp(`\\b${key}=(\\S+)`).exec(dockerfile)?.[1];
const tributaryServices = Object.entries(compose.services).filter(([, s]) => s.image === 'tributary:local');
const hasDockerCompose = spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0;

describe('docker-compose.yml', () => {
  it.skipIf(!hasDockerCompose)(
    'is accepted by docker-compose config (skipped only where docker-compose is not installed)',
    () => {
      const services = execFileSync('docker-compose', ['config', '--services'], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      });
      expect(services.split('\n').filter(Boolean).sort()).toEqual(Object.keys(compose.services).sort());
    },
  );

  it.each(PIPELINE_MEMBERS.map((m) => [m.name, m] as const))(
    'runs pipeline member %s as a service with its settings, scraped by Prometheus',
    (name, member) => {
      const service = compose.services[name];
      expect(service?.image).toBe('tributary:local');
      expect(service?.command).toEqual(['run', name]);
      expect(service?.environment).toMatchObject(member.env ?? {});
      const job = prometheus.scrape_configs.find((c) => c.job_name === name);
      const port = imageEnv('TRIBUTARY_HTTP_PORT');
      expect(job?.static_configs.flatMap((c) => c.targets)).toContain(`${name}:${port}`);
    },
  );

  it('scrapes nothing that is not a service', () => {
    const hosts = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const host of hosts.map((t) => t.split(':')[0] ?? ''))
      expect(host === '127.0.0.1' || host in compose.services, host).toBe(true);
  });

  it('starts every service after what it needs is healthy (or, for one-shot setup, done)', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const needed = compose.services[dependency];
        expect(needed, `${name} → ${dependency}`).toBeDefined();
        const oneShot = needed?.healthcheck?.disable === true;
        expect(condition, `${name} → ${dependency}`).toBe(
          oneShot ? 'service_completed_successfully' : 'service_healthy',
        );
      }
    }
  });

  it('gives every long-running Tributary service a health check on its /readyz', () => {
    for (const [name, service] of tributaryServices) {
      if (service.healthcheck?.disable === true) continue;
      expect(service.healthcheck?.test?.join(' '), name).toContain(
        `127.0.0.1:${imageEnv('TRIBUTARY_HTTP_PORT')}/readyz`,
      );
    }
  });
});

describe('the Dockerfile', () => {
  it('runs what ./tributary runs (cli/bundled.mjs, built in the image), as a non-root user, without dev dependencies', () => {
    const launcher = /\[ "\$\{1:-\}" = run \] && exec node (.*) "\$@"/.exec(read('tributary'))?.[1];
    expect(launcher).toBe('--max-old-space-size=384 cli/bundled.mjs');
    expect(dockerfile).toMatch(
      /ENTRYPOINT \["tini", "--", "node", "--max-old-space-size=384", "cli\/bundled\.mjs"\]/,
    );
    expect(dockerfile).toMatch(/node cli\/bundled\.mjs --build-only/);
    const runtimeStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtimeStage).toMatch(/\nUSER node\n/);
    expect(dockerfile).toMatch(/npm prune --omit=dev/);
    // tsx and esbuild must be runtime dependencies, or the pruned image could not start.
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies).toHaveProperty('tsx');
    expect(pkg.dependencies).toHaveProperty('esbuild');
  });
});

/** Every package the modules reachable from `entries` import (type-only imports left out: they vanish). */
function packagesReachable(entries: string[]): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const queue = entries.map((e) => join(REPO_ROOT, e));
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    const specifiers = [
      ...text.matchAll(/^(?!import type)(?:import|export)\b[^'"]*?from '([^']+)'|import\('([^']+)'\)/gm),
    ];
    for (const [, fromClause, dynamic] of specifiers) {
      const spec = fromClause ?? dynamic ?? '';
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else
        packages.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? ''),
        );
    }
  }
  return packages;
}

describe('the image without dev dependencies', () => {
  it('needs only runtime dependencies for the CLI and the compose setup script', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const builtin = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const reachable = packagesReachable([
      'cli/bundled.mjs',
      'cli/main.ts',
      'infra/compose/clickhouse-setup.ts',
    ]);
    expect(reachable.size).toBeGreaterThan(5);
    const missing = [...reachable].filter((p) => !builtin.has(p) && !(p in pkg.dependencies));
    expect(missing).toEqual([]);
  });
});
