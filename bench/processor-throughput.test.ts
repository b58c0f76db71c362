import { describe, expect, it } from 'vitest';
import { cpuSeconds } from './processor-throughput.ts';

describe('cpuSeconds', () => {
  it("reads a live process's CPU time from /proc, growing with work, and nothing for a process that is gone", () => {
    const before = cpuSeconds(process.pid);
    const usage = process.cpuUsage();
    // About 0.3 s of CPU: enough to move the clock ticks /proc counts in (10 ms each).
    for (let spent = 0; spent < 300_000; spent = process.cpuUsage(usage).user) Math.sqrt(spent);
    const after = cpuSeconds(process.pid);
    expect(before).toBeDefined();
    expect((after ?? 0) - (before ?? 0)).toBeGreaterThan(0.2);
    expect(cpuSeconds(2 ** 22 + 1)).toBeUndefined();
  });
});
