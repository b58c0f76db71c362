// CI step: `npm audit` at high and critical must be clean, except the advisories listed with a reason in
// .ci/audit-exceptions.json ({ "<GHSA id or advisory URL>": "why it does not apply" }).
// An audit that cannot run (a registry mirror without the audit endpoint, as on the machine CI uses here)
// says so plainly and passes, unless TRIBUTARY_AUDIT_REQUIRED=1 makes an unchecked supply chain a failure.
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
// Bounded: a registry that holds the request open must not hold CI past its time limit.
const audit = spawnSync('npm', ['audit', '--json'], { encoding: 'utf8', timeout: 120_000 });
let report: { vulnerabilities?: Record<string, Vulnerability>; error?: unknown };
try {
  report = JSON.parse(audit.stdout) as typeof report;
} catch {
  report = { error: audit.stderr };
}
if (report.vulnerabilities === undefined) {
  const why = JSON.stringify(report.error ?? audit.stderr).slice(0, 500);
  const required = process.env['TRIBUTARY_AUDIT_REQUIRED'] === '1';
  console.error(
    `npm audit NOT CHECKED: the registry's audit endpoint did not answer (${why})` +
      (required ? '' : '; passing because TRIBUTARY_AUDIT_REQUIRED is not 1'),
  );
  process.exit(required ? 1 : 0);
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
