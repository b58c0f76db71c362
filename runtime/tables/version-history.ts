// The older versions of one key, oldest first: parallel arrays of valid-from times (kept unboxed as a
// double array by V8) and values (null = tombstone). Only keys that changed have one.
export class VersionHistory<V> {
  private readonly times: number[] = [];
  private readonly values: (V | null)[] = [];

  get size(): number {
    return this.times.length;
  }

  /** Adds a version valid from later than every version here. */
  append(validFrom: number, value: V | null): void {
    this.times.push(validFrom);
    this.values.push(value);
  }

  /** Puts a version in time order; returns false when it replaced one valid from the same time. */
  insert(validFrom: number, value: V | null): boolean {
    const index = this.lastAtOrBefore(validFrom);
    if (index >= 0 && this.times[index] === validFrom) {
      this.values[index] = value;
      return false;
    }
    this.times.splice(index + 1, 0, validFrom);
    this.values.splice(index + 1, 0, value);
    return true;
  }

  /** The version valid at `atTime`: a value, null (tombstone), or undefined when older than all. */
  at(atTime: number): V | null | undefined {
    const index = this.lastAtOrBefore(atTime);
    return index < 0 ? undefined : this.values[index];
  }

  /** Whether some version here was valid at `atTime`. */
  covers(atTime: number): boolean {
    return (this.times[0] ?? Infinity) <= atTime;
  }

  /**
   * Drops the versions whose successor (the next one here, else the newest at `newestFrom`) became valid
   * at or before `horizon`: no lookup the bound still answers can reach them. Returns how many went.
   */
  dropSupersededBefore(horizon: number, newestFrom: number): number {
    let count = 0;
    while (count < this.times.length && (this.times[count + 1] ?? newestFrom) <= horizon) count++;
    if (count > 0) {
      this.times.splice(0, count);
      this.values.splice(0, count);
    }
    return count;
  }

  /** Index of the last version valid from at or before `time`, -1 if none (binary search). */
  private lastAtOrBefore(time: number): number {
    let low = 0;
    let high = this.times.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if ((this.times[mid] ?? Infinity) <= time) low = mid + 1;
      else high = mid - 1;
    }
    return high;
  }
}
