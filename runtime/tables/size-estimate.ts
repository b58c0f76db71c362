// Rough heap bytes of a decoded value, for the tables' `bytes` metric: V8 object layouts on 64-bit
// without pointer compression (Node's default). Calibrated against heap used / entries in
// bench/table-bench.ts; an estimate, never used for a decision.
const OBJECT_HEADER_BYTES = 24;
const POINTER_BYTES = 8;
const STRING_HEADER_BYTES = 16;
const HEAP_NUMBER_BYTES = 16;

export function approximateBytes(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      return STRING_HEADER_BYTES + roundUp(value.length);
    case 'number':
      // Small integers live inside the pointer; other numbers are boxed.
      return Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? 0 : HEAP_NUMBER_BYTES;
    case 'object':
      if (value === null || depth > 4) return 0;
      return objectBytes(value, depth);
    default:
      return 0;
  }
}

function objectBytes(value: object, depth: number): number {
  if (Buffer.isBuffer(value)) return OBJECT_HEADER_BYTES + roundUp(value.length);
  const children = Object.values(value);
  let bytes = OBJECT_HEADER_BYTES + children.length * POINTER_BYTES;
  for (const child of children) bytes += approximateBytes(child, depth + 1);
  return bytes;
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / POINTER_BYTES) * POINTER_BYTES;
}

/**
 * Per-key structure bytes of VersionedTable beyond key and value (Map entry and buckets, Float64, array
 * slot): what bench/table-bench.ts measures per entry (159 for 1,000,000 customers) minus the estimate's
 * key (32) and value (72) bytes.
 */
const SLOT_BYTES = 56;
/** Per older version: a double in the history's time array, a pointer in its value array, the history object amortised. */
const OLDER_VERSION_BYTES = 24;
const SAMPLE_EVERY = 64;

/** Running means of key and value sizes over every 64th record, turned into a table-wide estimate. */
export class SizeSampler {
  private seen = 0;
  private samples = 0;
  private keyBytes = 0;
  private valueBytes = 0;

  /** `sharedBytes`: the part of the value's strings it shares with other values or its key. */
  offer(key: string, value: unknown, sharedBytes: number): void {
    if (this.seen++ % SAMPLE_EVERY !== 0) return;
    this.samples++;
    this.keyBytes += (approximateBytes(key) - this.keyBytes) / this.samples;
    this.valueBytes += (approximateBytes(value) - sharedBytes - this.valueBytes) / this.samples;
  }

  /** Estimated heap bytes of a table holding `keys` keys and `versions` versions in all. */
  estimate(keys: number, versions: number): number {
    const olderVersions = Math.max(0, versions - keys);
    return (
      keys * (SLOT_BYTES + this.keyBytes + this.valueBytes) +
      olderVersions * (OLDER_VERSION_BYTES + this.valueBytes)
    );
  }
}
