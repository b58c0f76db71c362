// CI step: `npm audit` at high and critical must be clean, except the advisories listed with a reason in
// .ci/audit-exceptions.json ({ "<GHSA id or advisory URL>": "why it does not apply" }).
// An audit that cannot run (no registry) fails too: an unchecked supply chain is not a clean one.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Via {
  url?: string;
  title?: string;
  severity?: string;
}
interface Vulnerability {
  severity: string;
  via: Array<string | Via>;
}

const exceptions = JSON.parse(
  readFileSync(new URL('../../.ci/audit-exceptions.json', import.meta.url), 'utf8'),
) as Record<string, string>;
const audit = spawnSync('npm', ['audit', '--json'], { encoding: 'utf8' });
let report: { vulnerabilities?: Record<string, Vulnerability>; error?: unknown };
try {
  report = JSON.parse(audit.stdout) as typeof report;
} catch {
  report = { error: audit.stderr };
}
if (report.vulnerabilities === undefined) {
  const why = JSON.stringify(report.error ?? audit.stderr).slice(0, 500);
  console.error(
    `npm audit could not check the dependencies (is the registry audit endpoint reachable?): ${why}`,
  );
  process.exit(1);
}
const serious = Object.entries(report.vulnerabilities).flatMap(([name, v]) =>
  v.via
    .filter((via): via is Via => typeof via !== 'string' && ['high', 'critical'].includes(via.severity ?? ''))
    .map((via) => ({ name, url: via.url ?? '', title: via.title ?? '', severity: via.severity ?? '' })),
);
const excepted = (url: string): boolean => Object.keys(exceptions).some((id) => url.endsWith(id));
const open = serious.filter((finding) => !excepted(finding.url));
for (const f of serious.filter((finding) => excepted(finding.url)))
  console.log(`excepted: ${f.name} ${f.severity} ${f.url}`);
for (const f of open) console.error(`${f.severity}: ${f.name}: ${f.title} ${f.url}`);
console.log(
  `npm audit: ${open.length} high/critical advisories open, ${serious.length - open.length} excepted`,
);
process.exit(open.length === 0 ? 0 : 1);
