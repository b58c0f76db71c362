// Turns generated ASCII text into Buffers carved out of large slabs: one allocation per megabyte
// instead of one per event. The producer copies each record, so a slab lives only as long as
// the views still referenced (duplicates waiting to be sent again, records in flight, tests).

const SLAB_BYTES = 1 << 20;
/** Texts larger than this get their own Buffer (oversized records), not a slab's space. */
const LARGEST_IN_SLAB = SLAB_BYTES >> 4;

export class ByteSlab {
  private slab = Buffer.allocUnsafe(SLAB_BYTES);
  private used = 0;

  /** `text` must be ASCII (every generated event is): it is written as latin1, one byte a character. */
  ascii(text: string): Buffer {
    const length = text.length;
    if (length > LARGEST_IN_SLAB) return Buffer.from(text, 'latin1');
    if (this.used + length > SLAB_BYTES) {
      this.slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.used = 0;
    }
    const start = this.used;
    this.used += this.slab.latin1Write(text, start, length);
    return this.slab.subarray(start, this.used);
  }
}
