// The Confluent wire format: magic byte 0, the schema id as a 4-byte big-endian unsigned int, then
// the Avro binary body.
import { SerdeError } from '../errors.ts';

export const MAGIC_BYTE = 0;
export const HEADER_LENGTH = 5;
export const MAX_SCHEMA_ID = 0xffff_ffff;

/**
 * The schema id of a framed value. Throws SerdeError BAD_MAGIC (empty, or first byte not 0) or
 * TRUNCATED (shorter than the 5-byte header).
 */
export function readSchemaId(buf: Buffer): number {
  if (buf.length === 0 || buf[0] !== MAGIC_BYTE) {
    throw new SerdeError(
      'TRIBUTARY_SERDE_BAD_MAGIC',
      buf.length === 0
        ? 'empty value: expected the Confluent wire format (magic byte 0)'
        : `first byte is ${buf[0]}, not the magic byte 0: not in the Confluent wire format`,
      { context: { length: buf.length } },
    );
  }
  if (buf.length < HEADER_LENGTH) {
    throw new SerdeError(
      'TRIBUTARY_SERDE_TRUNCATED',
      `value is ${buf.length} bytes, shorter than the 5-byte wire format header`,
      { context: { length: buf.length } },
    );
  }
  return buf.readUInt32BE(1);
}

/** The schema id of a value if it has a well-formed header, else undefined. Never throws. */
export function peekSchemaId(buf: Buffer): number | undefined {
  return buf.length >= HEADER_LENGTH && buf[0] === MAGIC_BYTE ? buf.readUInt32BE(1) : undefined;
}

/** Writes the 5-byte header at the start of `buf`. */
export function writeHeader(buf: Buffer, schemaId: number): void {
  buf[0] = MAGIC_BYTE;
  buf.writeUInt32BE(schemaId, 1);
}

export function assertSchemaId(schemaId: number): void {
  if (!Number.isInteger(schemaId) || schemaId < 0 || schemaId > MAX_SCHEMA_ID) {
    throw new RangeError(`schema id must be an integer in 0..${MAX_SCHEMA_ID}, got ${schemaId}`);
  }
}
