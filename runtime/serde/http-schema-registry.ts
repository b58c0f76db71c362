// SchemaRegistry over the Confluent REST API (Confluent, Apicurio's /apis/ccompat/v7, Karapace).
// A small fetch client rather than @kafkajs/confluent-schema-registry: every failure maps straight to
// our error catalogue, the compatibility endpoints are exposed, and there is no hidden retry (retry
// policy belongs to the runtime; UNAVAILABLE errors say they are retryable).
import { z } from 'zod';
import { SerdeError, TributaryError, describeError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import type { HttpSchemaRegistryOptions } from './http-schema-registry-options.ts';
import {
  HTTP_SCHEMA_REGISTRY_DEFAULTS,
  REGISTRY_CONTENT_TYPE,
  resolveRegistryEndpoint,
} from './http-schema-registry-options.ts';
import type {
  CompatibilityLevel,
  CompatibilityResult,
  DeleteSubjectOptions,
  SchemaRegistry,
  SubjectVersion,
} from './registry.ts';

/** Confluent `error_code`s the client gives a meaning to. */
const SUBJECT_NOT_FOUND = 40401;
const SCHEMA_NOT_FOUND = 40403;
const INVALID_SCHEMA = 42201;

const errorBody = z.object({ error_code: z.number().optional(), message: z.string().optional() });
const schemaBody = z.object({ schema: z.string() });
const idBody = z.object({ id: z.number().int() });
const versionsBody = z.array(z.number().int());
const subjectVersionBody = z.object({
  subject: z.string(),
  version: z.number().int(),
  id: z.number().int(),
  schema: z.string(),
});
// Confluent sends `messages` with verbose=true; Apicurio sends only `is_compatible`.
const compatibilityBody = z.object({
  is_compatible: z.boolean(),
  messages: z.array(z.unknown()).optional(),
});

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

type Outcome =
  { ok: true; body: unknown } | { ok: false; status: number; errorCode: number | undefined; message: string };

export class HttpSchemaRegistry implements SchemaRegistry {
  /** Base URL without credentials: safe to log. */
  readonly baseUrl: string;
  private readonly authorization: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  /** `new HttpSchemaRegistry(url)` or with options; see HttpSchemaRegistryOptions. */
  constructor(urlOrOptions: string | HttpSchemaRegistryOptions) {
    const options = typeof urlOrOptions === 'string' ? { url: urlOrOptions } : urlOrOptions;
    const endpoint = resolveRegistryEndpoint(options.url, options);
    this.baseUrl = endpoint.baseUrl;
    this.authorization = endpoint.authorization;
    this.timeoutMs = options.timeoutMs ?? HTTP_SCHEMA_REGISTRY_DEFAULTS.timeoutMs;
    this.fetchFn = options.fetch ?? globalThis.fetch;
  }

  async getSchemaById(id: number): Promise<string> {
    const path = `/schemas/ids/${id}`;
    const outcome = await this.request('GET', path);
    // A 404 without error_code 40403 is not "no such schema": it is a wrong base URL, and treating it as
    // an unknown id would dead-letter every record. It stays a REQUEST_FAILED.
    if (!outcome.ok && outcome.status === 404 && outcome.errorCode === SCHEMA_NOT_FOUND) {
      throw new SerdeError('TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID', `schema id ${id} is not in the registry`, {
        context: { schemaId: id, url: this.baseUrl },
      });
    }
    return this.parse(schemaBody, this.expectOk('GET', path, outcome), path).schema;
  }

  async register(subject: string, schemaJson: string): Promise<{ id: number }> {
    const path = `${subjectPath(subject)}/versions`;
    const outcome = await this.request('POST', path, { schema: schemaJson });
    return { id: this.parse(idBody, this.expectOk('POST', path, outcome), path).id };
  }

  async lookup(subject: string, schemaJson: string): Promise<SubjectVersion | undefined> {
    const path = subjectPath(subject);
    const outcome = await this.request('POST', path, { schema: schemaJson });
    if (!outcome.ok && outcome.status === 404) {
      if (outcome.errorCode === SUBJECT_NOT_FOUND || outcome.errorCode === SCHEMA_NOT_FOUND) return undefined;
    }
    return this.parse(subjectVersionBody, this.expectOk('POST', path, outcome), path);
  }

  async listVersions(subject: string): Promise<number[]> {
    const path = `${subjectPath(subject)}/versions`;
    const outcome = await this.request('GET', path);
    if (!outcome.ok && outcome.status === 404 && outcome.errorCode === SUBJECT_NOT_FOUND) return [];
    return this.parse(versionsBody, this.expectOk('GET', path, outcome), path).sort((a, b) => a - b);
  }

  async getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    const path = `${subjectPath(subject)}/versions/${version}`;
    const outcome = await this.request('GET', path);
    return this.parse(subjectVersionBody, this.expectOk('GET', path, outcome), path);
  }

  async setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    const path = `/config/${encodeURIComponent(subject)}`;
    let outcome = await this.request('PUT', path, { compatibility: level });
    // Apicurio answers 409 when another client created the subject's rule a moment before (two copies
    // starting together); the PUT is an update once the rule exists, so doing it again settles it.
    if (!outcome.ok && outcome.status === 409)
      outcome = await this.request('PUT', path, { compatibility: level });
    this.expectOk('PUT', path, outcome);
  }

  async testCompatibility(
    subject: string,
    schemaJson: string,
    version: number | 'latest',
  ): Promise<CompatibilityResult> {
    const path = `/compatibility${subjectPath(subject)}/versions/${version}?verbose=true`;
    const outcome = await this.request('POST', path, { schema: schemaJson });
    // Confluent answers 404/40401 for a subject that does not exist yet; Apicurio answers compatible.
    if (!outcome.ok && outcome.status === 404 && outcome.errorCode === SUBJECT_NOT_FOUND) {
      return { compatible: true, messages: [] };
    }
    const body = this.parse(compatibilityBody, this.expectOk('POST', path, outcome), path);
    const messages = (body.messages ?? []).map((m) => (typeof m === 'string' ? m : JSON.stringify(m)));
    return { compatible: body.is_compatible, messages };
  }

  async deleteSubject(subject: string, options: DeleteSubjectOptions = {}): Promise<number[]> {
    const path = subjectPath(subject);
    const soft = await this.request('DELETE', path);
    const notFound = !soft.ok && soft.status === 404 && soft.errorCode === SUBJECT_NOT_FOUND;
    const deleted = notFound ? [] : this.parse(versionsBody, this.expectOk('DELETE', path, soft), path);
    if (options.permanent === true) {
      const hard = await this.request('DELETE', `${path}?permanent=true`);
      if (hard.ok) return this.parse(versionsBody, hard.body, path);
      if (hard.status !== 404 || hard.errorCode !== SUBJECT_NOT_FOUND) {
        this.expectOk('DELETE', path, hard);
      }
    }
    return deleted;
  }

  /** Network failures, timeouts and 5xx/408/429 throw (retryable); other answers are returned. */
  private async request(method: Method, path: string, body?: unknown): Promise<Outcome> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { Accept: REGISTRY_CONTENT_TYPE };
    if (body !== undefined) headers['Content-Type'] = REGISTRY_CONTENT_TYPE;
    if (this.authorization !== undefined) headers['Authorization'] = this.authorization;
    let status: number;
    let text: string;
    try {
      const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.timeoutMs) };
      if (body !== undefined) init.body = JSON.stringify(body);
      const response = await this.fetchFn(url, init);
      status = response.status;
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      const what = timedOut ? `timed out after ${this.timeoutMs} ms` : describeError(causeOf(error));
      if (isCertificateError(causeOf(error)))
        throw new TributaryError(
          'TRIBUTARY_REGISTRY_TLS_FAILED',
          `schema registry ${method} ${url}: its certificate was refused (${what}); set TRIBUTARY_REGISTRY_CA_FILE to the CA that signed it, and use the host name the certificate names`,
          { cause: error, context: { method, url } },
        );
      throw new TributaryError(
        'TRIBUTARY_REGISTRY_UNAVAILABLE',
        `schema registry ${method} ${url}: ${what}`,
        {
          cause: error,
          context: { method, url, timeoutMs: this.timeoutMs },
        },
      );
    }
    if (status >= 200 && status < 300) return { ok: true, body: parseJson(text) };
    const parsed = errorBody.safeParse(parseJson(text));
    const errorCode = parsed.success ? parsed.data.error_code : undefined;
    const message = (parsed.success ? parsed.data.message : undefined) ?? (text.trim() || `HTTP ${status}`);
    if (status === 401 || status === 403) throw refusedCredentials(method, url, status, message);
    if (status >= 500 || status === 408 || status === 429) {
      throw new TributaryError(
        'TRIBUTARY_REGISTRY_UNAVAILABLE',
        `schema registry ${method} ${url} answered ${status}: ${message}`,
        { context: { method, url, status, errorCode, message } },
      );
    }
    return { ok: false, status, errorCode, message };
  }

  /** The body of a successful outcome; a refusal becomes REQUEST_FAILED (or SCHEMA_INVALID). */
  private expectOk(method: Method, path: string, outcome: Outcome): unknown {
    if (outcome.ok) return outcome.body;
    const url = `${this.baseUrl}${path}`;
    const { status, errorCode, message } = outcome;
    const code: ErrorCode =
      status === 422 && errorCode === INVALID_SCHEMA
        ? 'TRIBUTARY_SCHEMA_INVALID'
        : 'TRIBUTARY_REGISTRY_REQUEST_FAILED';
    const hint = status === 404 && errorCode === undefined ? ' (no error_code: is the base URL right?)' : '';
    throw new TributaryError(
      code,
      `schema registry ${method} ${url} refused: ${status}${errorCode === undefined ? '' : `/${errorCode}`} ${message}${hint}`,
      { context: { method, url, status, errorCode, message } },
    );
  }

  private parse<T>(schema: z.ZodType<T>, body: unknown, path: string): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new TributaryError(
      'TRIBUTARY_REGISTRY_REQUEST_FAILED',
      `schema registry ${this.baseUrl}${path} answered an unexpected body: ${String(JSON.stringify(body)).slice(0, 200)}`,
      { context: { url: `${this.baseUrl}${path}`, issues: parsed.error.issues } },
    );
  }
}

function subjectPath(subject: string): string {
  return `/subjects/${encodeURIComponent(subject)}`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** Node's codes for a peer certificate that TLS refused. */
const CERTIFICATE_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CERTIFICATE_ERRORS.has(code);
}

/** 401 and 403 need a person: the credentials or the user's rights, never a retry. */
function refusedCredentials(method: Method, url: string, status: number, message: string): TributaryError {
  const [code, fix] =
    status === 401
      ? ([
          'TRIBUTARY_REGISTRY_AUTHENTICATION_FAILED',
          'check TRIBUTARY_REGISTRY_USERNAME and TRIBUTARY_REGISTRY_PASSWORD (or _PASSWORD_FILE)',
        ] as const)
      : ([
          'TRIBUTARY_REGISTRY_NOT_AUTHORIZED',
          "grant this user the registry's read (and, to register schemas, write) rights, or register them with `./tributary schemas register`",
        ] as const);
  return new TributaryError(
    code,
    `schema registry ${method} ${url} answered ${status} (${message}): ${fix}`,
    {
      context: { method, url, status },
    },
  );
}

/** fetch wraps the socket error ("fetch failed"); the cause says what happened (ECONNREFUSED …). */
function causeOf(error: unknown): unknown {
  return error instanceof Error && error.cause !== undefined ? error.cause : error;
}
