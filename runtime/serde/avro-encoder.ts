// Encodes values of one schema into the Confluent wire format, synchronously.
import { inspect } from 'node:util';
import type { Type } from 'avsc';
import { SerdeError, describeError } from '../errors.ts';
import { HEADER_LENGTH, assertSchemaId, writeHeader } from './wire-format.ts';
import { describeType } from './compatibility.ts';

const INITIAL_SCRATCH_BYTES = 1024;

export class AvroEncoder<T> {
  /** Reused across calls; holds the header, the body is written after it. Grows as needed. */
  private scratch: Buffer;

  constructor(
    /** The id the registry gave this schema (see `registerSchemas`). */
    readonly schemaId: number,
    readonly type: Type,
  ) {
    assertSchemaId(schemaId);
    this.scratch = Buffer.alloc(INITIAL_SCRATCH_BYTES);
    writeHeader(this.scratch, schemaId);
  }

  /**
   * Header + Avro body in a new Buffer. A value that does not match the schema → SerdeError
   * TRIBUTARY_SERDE_ENCODE_FAILED naming each wrong field (the check runs only after a failure).
   */
  encode(value: T): Buffer {
    let end: number;
    try {
      end = this.type.encode(value, this.scratch, HEADER_LENGTH);
      while (end < 0) {
        // avsc returns minus the number of missing bytes.
        this.grow(this.scratch.length - end);
        end = this.type.encode(value, this.scratch, HEADER_LENGTH);
      }
    } catch (error) {
      throw this.encodeFailed(value, error);
    }
    const out = Buffer.allocUnsafe(end);
    this.scratch.copy(out, 0, 0, end);
    return out;
  }

  private grow(atLeast: number): void {
    const next = Buffer.alloc(Math.max(atLeast, this.scratch.length * 2));
    this.scratch.copy(next, 0, 0, HEADER_LENGTH);
    this.scratch = next;
  }

  private encodeFailed(value: T, error: unknown): SerdeError {
    const problems: string[] = [];
    const paths: string[] = [];
    this.type.isValid(value, {
      errorHook: (path: string[], fieldValue: unknown, fieldType: Type) => {
        const where = path.length === 0 ? 'the value' : `field "${path.join('.')}"`;
        paths.push(path.join('.'));
        problems.push(`${where} is not a valid ${describeType(fieldType)} (got ${preview(fieldValue)})`);
      },
    });
    const name = this.type.name ?? this.type.typeName;
    const detail = problems.length > 0 ? problems.join('; ') : describeError(error);
    return new SerdeError(
      'TRIBUTARY_SERDE_ENCODE_FAILED',
      `cannot encode ${name} (schema id ${this.schemaId}): ${detail}`,
      {
        cause: error,
        context: { schemaId: this.schemaId, type: name, paths },
      },
    );
  }
}

function preview(value: unknown): string {
  return inspect(value, { depth: 1, maxArrayLength: 5, maxStringLength: 40, breakLength: Infinity });
}
