// HttpSchemaRegistry's request shapes and error mapping, against a fake fetch (no network).
import { describe, expect, it } from 'vitest';
import { TributaryError } from '../errors.ts';
import { HttpSchemaRegistry } from './http-schema-registry.ts';

interface Seen {
  url: string;
  method: string | undefined;
  headers: Record<string, string>;
  body: string | undefined;
}

function fakeFetch(status: number, body: unknown, seen: Seen[] = []): typeof fetch {
  return (input, init) => {
    seen.push({
      url: input instanceof Request ? input.url : input.toString(),
      method: init?.method,
      headers: init?.headers as Record<string, string>,
      body: init?.body as string | undefined,
    });
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return Promise.resolve(new Response(status === 204 ? null : text, { status }));
  };
}

function registry(fetchFn: typeof fetch, url = 'http://reg.test:8080/apis/ccompat/v7/'): HttpSchemaRegistry {
  return new HttpSchemaRegistry({ url, fetch: fetchFn, timeoutMs: 50 });
}

async function failure(promise: Promise<unknown>): Promise<TributaryError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TributaryError) return error;
    throw error;
  }
  throw new Error('expected a TributaryError');
}

describe('HttpSchemaRegistry', () => {
  it('keeps the base path, encodes subjects and sends the registry content type', async () => {
    const seen: Seen[] = [];
    await registry(fakeFetch(200, { id: 7 }, seen)).register('requests.valid-value/x', '{"type":"string"}');
    expect(seen[0]).toMatchObject({
      url: 'http://reg.test:8080/apis/ccompat/v7/subjects/requests.valid-value%2Fx/versions',
      method: 'POST',
      headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: '{"type":"string"}' }),
    });
  });

  it('sends URL credentials as basic auth and keeps them out of errors', async () => {
    const seen: Seen[] = [];
    const client = registry(
      fakeFetch(500, { error_code: 50001, message: 'boom' }, seen),
      'http://user:s3cret@reg.test/',
    );
    const error = await failure(client.listVersions('s'));
    expect(seen[0]?.url).toBe('http://reg.test/subjects/s/versions');
    expect(seen[0]?.headers['Authorization']).toBe(`Basic ${Buffer.from('user:s3cret').toString('base64')}`);
    expect(error.message).not.toContain('s3cret');
  });

  it('maps 40403 on getSchemaById to UNKNOWN_SCHEMA_ID, but a 404 without error_code to REQUEST_FAILED', async () => {
    const unknown = await failure(
      registry(fakeFetch(404, { error_code: 40403, message: 'Schema 9 not found.' })).getSchemaById(9),
    );
    expect(unknown).toMatchObject({ code: 'TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID', context: { schemaId: 9 } });
    const wrongUrl = await failure(registry(fakeFetch(404, '')).getSchemaById(9));
    expect(wrongUrl).toMatchObject({ code: 'TRIBUTARY_REGISTRY_REQUEST_FAILED', context: { status: 404 } });
    expect(wrongUrl.message).toContain('is the base URL right?');
  });

  it('maps 5xx, 429, network failures and timeouts to retryable UNAVAILABLE with the URL', async () => {
    for (const status of [500, 503, 429]) {
      const error = await failure(registry(fakeFetch(status, 'busy')).getSchemaById(1));
      expect(error).toMatchObject({
        code: 'TRIBUTARY_REGISTRY_UNAVAILABLE',
        retryable: true,
        context: { status },
      });
      expect(error.message).toContain('http://reg.test:8080/apis/ccompat/v7/schemas/ids/1');
    }
    const refused: typeof fetch = () =>
      Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') }));
    const network = await failure(registry(refused).getSchemaById(1));
    expect(network).toMatchObject({ code: 'TRIBUTARY_REGISTRY_UNAVAILABLE', retryable: true });
    expect(network.message).toContain('ECONNREFUSED');
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        const signal = init?.signal;
        signal?.addEventListener('abort', () =>
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted')),
        );
      });
    const timeout = await failure(registry(hang).getSchemaById(1));
    expect(timeout).toMatchObject({ code: 'TRIBUTARY_REGISTRY_UNAVAILABLE', context: { timeoutMs: 50 } });
    expect(timeout.message).toContain('timed out after 50 ms');
  });

  it('maps other 4xx to REQUEST_FAILED with status, error_code and message, and 42201 to SCHEMA_INVALID', async () => {
    const conflict = await failure(
      registry(fakeFetch(409, { error_code: 409, message: 'Incompatible' })).register('s', '{}'),
    );
    expect(conflict).toMatchObject({
      code: 'TRIBUTARY_REGISTRY_REQUEST_FAILED',
      retryable: false,
      context: { status: 409, errorCode: 409, message: 'Incompatible' },
    });
    const invalid = await failure(
      registry(fakeFetch(422, { error_code: 42201, message: 'Invalid schema' })).register('s', '{}'),
    );
    expect(invalid.code).toBe('TRIBUTARY_SCHEMA_INVALID');
    const plain = await failure(registry(fakeFetch(415, '')).register('s', '{}'));
    expect(plain).toMatchObject({
      code: 'TRIBUTARY_REGISTRY_REQUEST_FAILED',
      context: { status: 415, message: 'HTTP 415' },
    });
  });

  it('maps 401 and 403 to errors that need a person (exit 2), saying what to check', async () => {
    const denied = await failure(registry(fakeFetch(401, 'Unauthorized')).listVersions('s'));
    expect(denied).toMatchObject({ code: 'TRIBUTARY_REGISTRY_AUTHENTICATION_FAILED', retryable: false });
    expect(denied.message).toContain('TRIBUTARY_REGISTRY_PASSWORD');
    const forbidden = await failure(
      registry(fakeFetch(403, { error_code: 40301, message: 'no' })).register('s', '"string"'),
    );
    expect(forbidden).toMatchObject({ code: 'TRIBUTARY_REGISTRY_NOT_AUTHORIZED', retryable: false });
    expect(forbidden.message).toContain('schemas register');
  });

  it('maps a refused certificate to TLS_FAILED naming TRIBUTARY_REGISTRY_CA_FILE, not a retry', async () => {
    const untrusted: typeof fetch = () =>
      Promise.reject(
        new TypeError('fetch failed', {
          cause: Object.assign(new Error('self-signed certificate in certificate chain'), {
            code: 'SELF_SIGNED_CERT_IN_CHAIN',
          }),
        }),
      );
    const error = await failure(registry(untrusted).listVersions('s'));
    expect(error).toMatchObject({ code: 'TRIBUTARY_REGISTRY_TLS_FAILED', retryable: false });
    expect(error.message).toMatch(/self-signed certificate.*TRIBUTARY_REGISTRY_CA_FILE/);
  });

  it('answers [] / undefined for a subject that does not exist', async () => {
    const missing = fakeFetch(404, { error_code: 40401, message: "Subject 's' not found." });
    expect(await registry(missing).listVersions('s')).toEqual([]);
    expect(await registry(missing).lookup('s', '{}')).toBeUndefined();
    expect(
      await registry(fakeFetch(404, { error_code: 40403, message: 'no match' })).lookup('s', '{}'),
    ).toBeUndefined();
    expect(await registry(missing).testCompatibility('s', '{}', 'latest')).toEqual({
      compatible: true,
      messages: [],
    });
  });

  it('reads compatibility verdicts with or without messages (Confluent vs Apicurio)', async () => {
    const seen: Seen[] = [];
    const confluent = fakeFetch(
      200,
      { is_compatible: false, messages: ['READER_FIELD_MISSING_DEFAULT_VALUE region'] },
      seen,
    );
    expect(await registry(confluent).testCompatibility('s', '{}', 2)).toEqual({
      compatible: false,
      messages: ['READER_FIELD_MISSING_DEFAULT_VALUE region'],
    });
    expect(seen[0]?.url).toBe(
      'http://reg.test:8080/apis/ccompat/v7/compatibility/subjects/s/versions/2?verbose=true',
    );
    expect(
      await registry(fakeFetch(200, { is_compatible: true })).testCompatibility('s', '{}', 'latest'),
    ).toEqual({
      compatible: true,
      messages: [],
    });
  });

  it('refuses an unexpected response body', async () => {
    const error = await failure(registry(fakeFetch(200, { nope: true })).register('s', '{}'));
    expect(error.code).toBe('TRIBUTARY_REGISTRY_REQUEST_FAILED');
    expect(error.message).toContain('unexpected body');
  });
});
