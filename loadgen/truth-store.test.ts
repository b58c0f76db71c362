import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFleet } from './fleet.ts';
import { EventGenerator } from './generator.ts';
import { generate } from './test-support.ts';
import { TruthRecorder } from './truth.ts';
import {
  describeGeneratorOptions,
  generatorOptionsFromTruth,
  loadTruth,
  newRunId,
  saveTruth,
} from './truth-store.ts';

describe('truth store', () => {
  it('saves a run, points latest at it, and loads it back by id or as latest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'truth-'));
    const { fleet, generator, deliveries } = generate({ seed: 12, count: 2000 });
    const recorder = new TruthRecorder(fleet, generator.runTag);
    for (const d of deliveries) recorder.onAcknowledged(d);
    const runId = newRunId(12, new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6)));
    expect(runId).toBe('20250102T030405006Z-seed12');
    const meta = {
      run_id: runId,
      topic: 'requests.raw',
      partitions: 6,
      started_at: '',
      finished_at: '',
      generator: describeGeneratorOptions(generator.options),
      event_time: { from_ms: 0, to_ms: 0 },
    };
    const truth = recorder.result(meta, generator.incidents);
    const path = await saveTruth(truth, dir);
    expect(path).toBe(join(dir, runId, 'truth.json'));
    expect(await loadTruth(runId, dir)).toEqual(truth);
    expect(await loadTruth('latest', dir)).toEqual(truth);
    await expect(loadTruth('nope', dir)).rejects.toThrow(/no truth for run "nope"/);
    await expect(loadTruth('latest', join(dir, 'empty'))).rejects.toThrow(
      /no load-generator run recorded yet/,
    );
  });

  it('keeps enough of the options to regenerate the same bytes', () => {
    const { generator, deliveries } = generate({
      seed: 21,
      count: 3000,
      timeScale: 30,
      incidents: [
        { kind: 'error_burst', service: 'payments', fromS: 0.1, toS: 0.2, errorRate: 1 },
        { kind: 'latency_spike', service: 'payments', fromS: 0.1, toS: 0.3, latencyX: 3 },
        { kind: 'traffic_drop', service: 'search', fromS: 1, toS: 5, trafficShare: 0.1 },
      ],
    });
    const options = generatorOptionsFromTruth({ generator: describeGeneratorOptions(generator.options) });
    expect(options).toEqual(generator.options);
    const again = new EventGenerator(buildFleet({ seed: 21 }), options);
    for (const d of deliveries) expect(again.next()?.value.equals(d.value)).toBe(true);
    expect(again.next()).toBeUndefined();
  });
});
