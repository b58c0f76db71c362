// What Alertmanager's POST /api/v2/alerts accepts, for tests: the OpenAPI's postableAlerts (an array of
// postableAlert: labels required, a labelSet of strings; annotations a labelSet; startsAt, endsAt
// date-time; generatorURL a uri) plus the checks the server's Alert.Validate() adds (labels not empty,
// valid label names, startsAt not after endsAt). Returns every problem, none when the body is valid.

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelSetProblems(value: unknown, where: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return [`${where}: a labelSet must be an object`];
  return Object.entries(value as Record<string, unknown>).flatMap(([name, v]) => [
    ...(LABEL_NAME.test(name) ? [] : [`${where}: invalid label name "${name}"`]),
    ...(typeof v === 'string' ? [] : [`${where}.${name}: must be a string`]),
  ]);
}

function dateTimeProblems(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  return typeof value === 'string' && RFC3339.test(value) && !Number.isNaN(Date.parse(value))
    ? []
    : [`${where}: must be a date-time string`];
}

function alertProblems(alert: unknown, where: string): string[] {
  if (alert === null || typeof alert !== 'object' || Array.isArray(alert)) return [`${where}: not an object`];
  const a = alert as Record<string, unknown>;
  const problems: string[] = [];
  if (a.labels === undefined) problems.push(`${where}.labels is required`);
  else {
    problems.push(...labelSetProblems(a.labels, `${where}.labels`));
    if (Object.keys(a.labels as object).length === 0)
      problems.push(`${where}: at least one label pair required`);
  }
  if (a.annotations !== undefined) problems.push(...labelSetProblems(a.annotations, `${where}.annotations`));
  problems.push(...dateTimeProblems(a.startsAt, `${where}.startsAt`));
  problems.push(...dateTimeProblems(a.endsAt, `${where}.endsAt`));
  if (a.generatorURL !== undefined && (typeof a.generatorURL !== 'string' || !URL.canParse(a.generatorURL)))
    problems.push(`${where}.generatorURL: must be a uri`);
  if (
    typeof a.startsAt === 'string' &&
    typeof a.endsAt === 'string' &&
    Date.parse(a.endsAt) < Date.parse(a.startsAt)
  )
    problems.push(`${where}: start time must be before end time`);
  return problems;
}

export function postableAlertsProblems(body: unknown): string[] {
  if (!Array.isArray(body)) return ['body: postableAlerts must be an array'];
  return body.flatMap((alert, i) => alertProblems(alert, `[${i}]`));
}
