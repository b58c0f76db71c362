// A set of 64-bit id hashes in one typed array: open addressing with linear probing, 8 bytes a slot.
// A JS Set of strings costs ~60-100 bytes an id; this costs 8 / load (10-21 bytes while growing,
// 10 once sealed at 0.8 load), which is what lets a dedup horizon of minutes fit at tens of thousands/s.

const GROW_AT_LOAD = 0.75;
const SEALED_LOAD = 0.8;

/**
 * 64-bit hash of a string as two uint32 halves (cyrb53's mixing, extended to 64 bits). Not
 * cryptographic: ids come from trusted upstreams; a chance collision needs ~2^32 ids in one horizon.
 */
export function hashId(id: string, out: Uint32Array): void {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < id.length; i++) {
    const ch = id.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out[0] = h2 >>> 0;
  // (0, 0) marks an empty slot, so the one hash that would collide with it is moved off it.
  out[1] = h1 >>> 0 === 0 && out[0] === 0 ? 1 : h1 >>> 0;
}

export class IdTable {
  private slots: Uint32Array;
  private count = 0;

  constructor(private capacity = 1024) {
    this.slots = new Uint32Array(capacity * 2);
  }

  get size(): number {
    return this.count;
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  has(hi: number, lo: number): boolean {
    return this.find(hi, lo) >= 0;
  }

  /** False when the hash was already there. */
  add(hi: number, lo: number): boolean {
    if (this.count + 1 > this.capacity * GROW_AT_LOAD) this.resize(this.capacity * 2);
    return this.insert(hi, lo);
  }

  private insert(hi: number, lo: number): boolean {
    let slot = this.home(hi);
    while (this.slots[slot * 2] !== 0 || this.slots[slot * 2 + 1] !== 0) {
      if (this.slots[slot * 2] === hi && this.slots[slot * 2 + 1] === lo) return false;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
    this.slots[slot * 2] = hi;
    this.slots[slot * 2 + 1] = lo;
    this.count++;
    return true;
  }

  /** Removes a hash, shifting later members of its probe run back so lookups still find them. */
  remove(hi: number, lo: number): boolean {
    let hole = this.find(hi, lo);
    if (hole < 0) return false;
    let slot = hole;
    for (;;) {
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
      const h = this.slots[slot * 2] ?? 0;
      const l = this.slots[slot * 2 + 1] ?? 0;
      if (h === 0 && l === 0) break;
      const home = this.home(h);
      // Move it into the hole unless its home lies cyclically in (hole, slot].
      const stays = hole <= slot ? home > hole && home <= slot : home > hole || home <= slot;
      if (stays) continue;
      this.slots[hole * 2] = h;
      this.slots[hole * 2 + 1] = l;
      hole = slot;
    }
    this.slots[hole * 2] = 0;
    this.slots[hole * 2 + 1] = 0;
    this.count--;
    return true;
  }

  forEach(visit: (hi: number, lo: number) => void): void {
    for (let slot = 0; slot < this.capacity; slot++) {
      const hi = this.slots[slot * 2] ?? 0;
      const lo = this.slots[slot * 2 + 1] ?? 0;
      if (hi !== 0 || lo !== 0) visit(hi, lo);
    }
  }

  /** Shrinks to the sealed load once no more ids are expected (a closed time bucket). */
  seal(): void {
    const target = Math.max(16, Math.ceil(this.count / SEALED_LOAD) + 1);
    if (target < this.capacity) this.resize(target);
  }

  private home(hi: number): number {
    return hi % this.capacity;
  }

  private find(hi: number, lo: number): number {
    let slot = this.home(hi);
    for (;;) {
      const h = this.slots[slot * 2];
      const l = this.slots[slot * 2 + 1];
      if (h === hi && l === lo) return slot;
      if (h === 0 && l === 0) return -1;
      slot = slot + 1 === this.capacity ? 0 : slot + 1;
    }
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.capacity = capacity;
    this.slots = new Uint32Array(capacity * 2);
    this.count = 0;
    for (let i = 0; i < old.length; i += 2) {
      const hi = old[i] ?? 0;
      const lo = old[i + 1] ?? 0;
      if (hi !== 0 || lo !== 0) this.insert(hi, lo);
    }
  }
}
