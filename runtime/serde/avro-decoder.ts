// Decodes Confluent-framed Avro into the reader's schema. Writer schemas are fetched once per id and
// the reader←writer resolver is built once per id; `prepare` does the async part for a whole batch so
// that `decode` is a synchronous, allocation-light call inside the batch loop.
import avro from 'avsc';
import type { Type } from 'avsc';
import { SerdeError, TributaryError, describeError } from '../errors.ts';
import type { SchemaRegistry } from './registry.ts';
import { HEADER_LENGTH, peekSchemaId, readSchemaId } from './wire-format.ts';

type Resolver = ReturnType<Type['createResolver']>;

export interface AvroDecoderOptions {
  /**
   * How long an id the registry did not know stays "unknown" before `prepare` asks again, in ms.
   * Default 60 000. (A schema registered elsewhere may become visible a moment later.)
   */
  unknownIdRetryMs?: number;
  /** Clock in epoch ms. Default Date.now; tests pass a fake. */
  now?: () => number;
}

export const AVRO_DECODER_DEFAULTS = { unknownIdRetryMs: 60_000 } as const;

type WriterEntry =
  | { state: 'ready'; type: Type; resolver: Resolver | undefined }
  | { state: 'unknown'; retryAt: number }
  | { state: 'unreadable'; reason: string };

export class AvroDecoder<T> {
  private readonly writers = new Map<number, WriterEntry>();
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly unknownIdRetryMs: number;
  private readonly now: () => number;

  /**
   * @param readerType the schema values are read as (old writers resolve to it: defaults fill fields
   * they lack). `undefined` reads each value with its own writer schema (see `forWriterSchema`).
   */
  constructor(
    private readonly registry: SchemaRegistry,
    readonly readerType: Type | undefined,
    options: AvroDecoderOptions = {},
  ) {
    this.unknownIdRetryMs = options.unknownIdRetryMs ?? AVRO_DECODER_DEFAULTS.unknownIdRetryMs;
    this.now = options.now ?? Date.now;
  }

  /** A decoder that reads every value exactly as written (tests, tooling): no reader schema. */
  static forWriterSchema<T>(registry: SchemaRegistry, options: AvroDecoderOptions = {}): AvroDecoder<T> {
    return new AvroDecoder<T>(registry, undefined, options);
  }

  /**
   * Makes every schema id in the batch decodable: fetches the ids not seen yet, in parallel. Values that
   * are null or badly framed are skipped (`decode` reports them). An id the registry does not know is
   * remembered as unknown (decode throws UNKNOWN_SCHEMA_ID); a registry that is unavailable throws
   * TRIBUTARY_REGISTRY_UNAVAILABLE (retryable) and nothing is remembered for the ids it failed.
   */
  async prepare(values: Iterable<Buffer | null | undefined>): Promise<void> {
    const missing = new Set<number>();
    for (const value of values) {
      if (value === null || value === undefined) continue;
      const id = peekSchemaId(value);
      if (id !== undefined && this.needsFetch(id)) missing.add(id);
    }
    if (missing.size > 0) await Promise.all([...missing].map((id) => this.fetchWriter(id)));
  }

  /** Whether `decode` of this value waits on `prepare` (its writer schema is not fetched yet). */
  needsPrepare(value: Buffer): boolean {
    const id = peekSchemaId(value);
    return id !== undefined && this.needsFetch(id);
  }

  /**
   * Decodes one value (call `prepare` on its batch first). Throws SerdeError: BAD_MAGIC, TRUNCATED,
   * TRAILING_BYTES, UNKNOWN_SCHEMA_ID, MALFORMED (the body is not valid for its writer schema) or
   * INCOMPATIBLE_WRITER (the writer schema cannot be read as the reader's).
   */
  decode(buf: Buffer): T {
    const schemaId = readSchemaId(buf);
    const writer = this.writers.get(schemaId);
    if (writer === undefined) {
      throw new TributaryError(
        'TRIBUTARY_INTERNAL_INVARIANT',
        `schema id ${schemaId} was not prepared: call prepare() on the batch before decode()`,
      );
    }
    if (writer.state !== 'ready') throw this.writerError(schemaId, writer, buf.length);
    let result: { value: unknown; offset: number };
    try {
      result = writer.type.decode(buf, HEADER_LENGTH, writer.resolver);
    } catch (error) {
      throw new SerdeError(
        'TRIBUTARY_SERDE_MALFORMED',
        `Avro body is not valid for schema id ${schemaId}: ${describeError(error)}`,
        {
          cause: error,
          context: { schemaId, length: buf.length },
        },
      );
    }
    if (result.offset < 0) {
      throw new SerdeError(
        'TRIBUTARY_SERDE_TRUNCATED',
        `Avro body of schema id ${schemaId} ends early (${buf.length} bytes)`,
        {
          context: { schemaId, length: buf.length },
        },
      );
    }
    if (result.offset < buf.length) {
      throw new SerdeError(
        'TRIBUTARY_SERDE_TRAILING_BYTES',
        `${buf.length - result.offset} byte(s) left after the value of schema id ${schemaId}`,
        { context: { schemaId, length: buf.length, offset: result.offset } },
      );
    }
    return result.value as T;
  }

  /** prepare + decode for one value; for code paths that are not batch loops. */
  async decodeAsync(buf: Buffer): Promise<T> {
    await this.prepare([buf]);
    return this.decode(buf);
  }

  private needsFetch(id: number): boolean {
    const entry = this.writers.get(id);
    if (entry === undefined) return true;
    return entry.state === 'unknown' && this.now() >= entry.retryAt;
  }

  private fetchWriter(id: number): Promise<void> {
    const pending = this.inFlight.get(id);
    if (pending !== undefined) return pending;
    const fetching = this.load(id).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, fetching);
    return fetching;
  }

  private async load(id: number): Promise<void> {
    let schemaJson: string;
    try {
      schemaJson = await this.registry.getSchemaById(id);
    } catch (error) {
      if (error instanceof SerdeError && error.code === 'TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID') {
        this.writers.set(id, { state: 'unknown', retryAt: this.now() + this.unknownIdRetryMs });
        return;
      }
      throw error;
    }
    this.writers.set(id, this.resolve(schemaJson));
  }

  private resolve(schemaJson: string): WriterEntry {
    let writer: Type;
    try {
      writer = avro.Type.forSchema(JSON.parse(schemaJson) as avro.Schema);
    } catch (error) {
      return {
        state: 'unreadable',
        reason: `its schema is not Avro this runtime can parse: ${describeError(error)}`,
      };
    }
    const reader = this.readerType;
    if (reader === undefined) return { state: 'ready', type: writer, resolver: undefined };
    // Same canonical form: same bytes, no resolution needed.
    if (writer.equals(reader)) return { state: 'ready', type: reader, resolver: undefined };
    try {
      return { state: 'ready', type: reader, resolver: reader.createResolver(writer) };
    } catch (error) {
      const readerName = reader.name ?? reader.typeName;
      return { state: 'unreadable', reason: `it cannot be read as ${readerName}: ${describeError(error)}` };
    }
  }

  private writerError(
    schemaId: number,
    entry: Exclude<WriterEntry, { state: 'ready' }>,
    length: number,
  ): SerdeError {
    const context = { schemaId, length };
    if (entry.state === 'unknown') {
      return new SerdeError(
        'TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID',
        `schema id ${schemaId} is not in the registry`,
        { context },
      );
    }
    return new SerdeError('TRIBUTARY_SERDE_INCOMPATIBLE_WRITER', `schema id ${schemaId}: ${entry.reason}`, {
      context,
    });
  }
}
