// What a client may change through URL parameters: HTTP-layer parameters are the endpoint's, not the
// engine's settings; settings that decide what is allowed are refused; the limits may be lowered but
// never lifted (a larger value, or 0 = unlimited, is clamped to the endpoint's cap, as a client such as
// Grafana's plugin sends its own max_execution_time). The statement itself is checked by statement-check.ts.
import { TributaryError } from '../../../runtime/index.ts';
import type { QueryLimits } from './limits.ts';
import { limitSettings } from './limits.ts';

/** Settings a client may not change: they decide what is allowed, or tag our own queries. */
const GUARDING_SETTINGS = new Set([
  'readonly',
  'allow_ddl',
  'allow_introspection_functions',
  'allow_get_client_http_header',
  'log_comment',
  'max_concurrent_queries_for_user',
  'max_concurrent_queries_for_all_users',
  'max_memory_usage_for_user',
]);
/** Parameters of ClickHouse's HTTP layer (or of the client library): handled by the endpoint, not settings. */
export const HTTP_ONLY_SETTINGS = new Set([
  'query',
  'query_id',
  'database',
  'default_format',
  'user',
  'password',
  'quota_key',
  'session_id',
  'session_timeout',
  'session_check',
  'compress',
  'decompress',
  'buffer_size',
  'wait_end_of_query',
  'client_protocol_version',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_native_compression_disable_checksumming_on_decompress',
  'add_http_cors_header',
  'cancel_http_readonly_queries_on_client_close',
  'http_response_buffer_size',
  'http_wait_end_of_query',
  'role',
]);

/** ClickHouse's READONLY code: what a refusal looks like to clients. */
export const READONLY_CODE = 164;

export function refused(message: string): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_QUERY_REFUSED', message, {
    context: { clickhouseCode: READONLY_CODE },
  });
}

/** Settings from URL parameters: HTTP-layer ones dropped, guarding ones refused, limits clamped to the caps. */
export function settingsFromParams(params: URLSearchParams, limits?: QueryLimits): Map<string, string> {
  const settings = new Map<string, string>();
  for (const [key, value] of params) {
    if (HTTP_ONLY_SETTINGS.has(key) || key.startsWith('param_')) continue;
    if (GUARDING_SETTINGS.has(key)) throw refused(`the setting ${key} cannot be changed here`);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw refused(`not a setting name: ${key}`);
    settings.set(key, value);
  }
  if (limits === undefined) return settings;
  for (const [key, cap] of limitSettings(limits)) {
    const asked = Number(settings.get(key) ?? Number.NaN);
    const lowered = Number.isFinite(asked) && asked > 0 && asked < cap;
    settings.set(key, String(lowered ? asked : cap));
  }
  return settings;
}
