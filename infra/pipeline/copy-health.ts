// Reads one running copy's /readyz and /metrics over HTTP, bounded in time; a copy that does not answer
// (still starting, stuck) is reported as not ready rather than failing the caller.
import { copyFigures, parsePrometheusText } from './metrics-text.ts';
import type { CopyFigures } from './metrics-text.ts';

export interface CopyHealth {
  ready: boolean;
  /** What /readyz said ("assigned 6 partition(s), lag 0"), or why it could not be asked. */
  reason: string;
  /** Undefined when /metrics did not answer. */
  figures: CopyFigures | undefined;
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; body: string } | string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return { status: response.status, body: await response.text() };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    if (cause === 'ECONNREFUSED') return 'no health server yet';
    if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
    return String((error as Error).message);
  }
}

function readyFrom(answer: { status: number; body: string } | string): { ready: boolean; reason: string } {
  if (typeof answer === 'string') return { ready: false, reason: answer };
  try {
    const parsed = JSON.parse(answer.body) as { ok?: unknown; reason?: unknown };
    const reason = typeof parsed.reason === 'string' ? parsed.reason : '';
    return { ready: answer.status === 200 && parsed.ok === true, reason };
  } catch {
    return { ready: answer.status === 200, reason: answer.body.slice(0, 80) };
  }
}

export async function readCopyHealth(host: string, port: number, timeoutMs: number): Promise<CopyHealth> {
  const base = `http://${host}:${port}`;
  const [ready, metrics] = await Promise.all([
    get(`${base}/readyz`, timeoutMs),
    get(`${base}/metrics`, timeoutMs),
  ]);
  const figures =
    typeof metrics !== 'string' && metrics.status === 200
      ? copyFigures(parsePrometheusText(metrics.body))
      : undefined;
  return { ...readyFrom(ready), figures };
}
