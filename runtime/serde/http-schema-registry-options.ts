// Options of HttpSchemaRegistry: typed arguments with their defaults. The URL itself comes from the
// runtime config (`registryUrl`); this file only adds what the client needs on top.

export interface HttpSchemaRegistryOptions {
  /**
   * Base URL of the Confluent-compatible API, path included: `http://127.0.0.1:8081` for Confluent,
   * `http://127.0.0.1:8081/apis/ccompat/v7` for Apicurio. `http://user:pass@host/…` sends the
   * credentials as HTTP basic auth (they never appear in errors or logs).
   */
  url: string;
  /** Per-request timeout in ms, the whole exchange including the body. Default 10 000. */
  timeoutMs?: number;
  /** The fetch to use. Default the global `fetch`; tests pass a fake. */
  fetch?: typeof fetch;
  /** HTTP basic auth, instead of credentials in the URL. */
  username?: string;
  password?: string;
}

export const HTTP_SCHEMA_REGISTRY_DEFAULTS = {
  timeoutMs: 10_000,
} as const;

export const REGISTRY_CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

export interface ResolvedRegistryEndpoint {
  /** Base URL without credentials and without a trailing slash: safe to log. */
  baseUrl: string;
  /** `Basic …` when the URL carried credentials. */
  authorization: string | undefined;
}

const basic = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Splits credentials off the URL (fetch refuses URLs that carry them); explicit ones win. */
export function resolveRegistryEndpoint(
  url: string,
  credentials: { username?: string; password?: string } = {},
): ResolvedRegistryEndpoint {
  const parsed = new URL(url);
  let authorization: string | undefined;
  if (credentials.username !== undefined) {
    authorization = basic(credentials.username, credentials.password ?? '');
    parsed.username = '';
    parsed.password = '';
  } else if (parsed.username !== '' || parsed.password !== '') {
    const user = decodeURIComponent(parsed.username);
    const password = decodeURIComponent(parsed.password);
    authorization = basic(user, password);
    parsed.username = '';
    parsed.password = '';
  }
  parsed.search = '';
  parsed.hash = '';
  return { baseUrl: parsed.toString().replace(/\/+$/, ''), authorization };
}
