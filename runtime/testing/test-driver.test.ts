import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { avro, bytes, defineProcessor } from '../app/index.ts';
import type { RequestEvent, Service } from '../contracts/index.ts';
import { ingest } from '../../processors/ingest/ingest.ts';
import { passthrough } from '../../processors/passthrough/passthrough.ts';
import { NOW, rawEvent } from '../../processors/ingest/test-events.ts';
import { TestDriver } from './test-driver.ts';
import { rulesProcessor } from './fixtures/rules-processor.ts';

// Reads the team owning a service from a reference table, at the record's time.
const teamTagger = defineProcessor({
  name: 'team-tagger',
  description: 'test processor: tags a service name with its owning team',
  input: { topic: 'tag.in', value: bytes() },
  outputs: { tagged: { topic: 'tag.out', value: bytes() } },
  tables: { services: { topic: 'ref.services', value: avro('Service') } },
  outcomes: { untagged: ['unknown_service'] },
  config: {},
  handle(record, ctx) {
    const service = record.value.toString();
    const found = ctx.table('services').get(service, record.timestamp);
    if (found === undefined) return ctx.count('untagged', 'unknown_service');
    ctx.emit('tagged', service, Buffer.from(`${service}@${found.team}`));
  },
});

function service(name: string, team: string): Service {
  return { service: name, team, tier: 1, latency_slo_ms: 100, availability_slo: 0.999, updated_at: 0 };
}

function rulesFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rules-')), 'rules.json');
  writeFileSync(path, content);
  return path;
}

describe('TestDriver', () => {
  it('types each output from the definition: output("valid") is RequestEvent[]', async () => {
    const driver = await TestDriver.create(ingest);
    await driver.input().send({ key: 'e1', value: rawEvent({ event_id: '"e1"' }), timestamp: NOW });
    const valid = driver.output('valid');
    expectTypeOf(valid).toEqualTypeOf<RequestEvent[]>();
    expect(valid.map((e) => [e.event_id, e.ingested_at])).toEqual([['e1', NOW]]);
    // @ts-expect-error -- ingest declares no output "invalid"
    expect(() => driver.output('invalid')).not.toThrow();
  });

  it('restart rebuilds the dedup store from the captured changelog, so a repeat after it is still a duplicate', async () => {
    const driver = await TestDriver.create(ingest);
    const event = { key: 'a', value: rawEvent({ event_id: '"a"' }), timestamp: NOW };
    await driver
      .input()
      .send([event, { ...event, key: 'b', value: rawEvent({ event_id: '"b"' }), partition: 1 }]);
    // The store's changelog records (chunks of id hashes) are what the restart restores from.
    expect(new Set(driver.changelog('recentEventIds').map((r) => r.partition))).toEqual(new Set([0, 1]));
    await driver.restart();
    await driver.input().send([
      { ...event, timestamp: NOW + 5 },
      { ...event, key: 'b', value: rawEvent({ event_id: '"b"' }), partition: 1, timestamp: NOW + 5 },
    ]);
    expect(driver.output('valid').map((e) => e.event_id)).toEqual(['a', 'b']);
    expect(driver.counted.get('duplicate')).toBe(2);
  });

  it('stamps records sent without a timestamp with the event time, and dead letters with the wall clock', async () => {
    const driver = await TestDriver.create(passthrough, { wallClockMs: 1_000 });
    driver.advanceEventTime(5_000);
    await driver.input().send({ key: 'k', value: 'v' });
    await driver.input().send({ key: 'late', value: 'v', timestamp: 9_000 });
    driver.advanceEventTime(1);
    await driver.input().send({ key: 'next', value: 'v' });
    expect(driver.outputRecords('copied').map((r) => [r.key, r.timestamp])).toEqual([
      ['k', 5_000],
      ['late', 9_000],
      ['next', 9_001],
    ]);
    const dlq = await TestDriver.create(ingest, { wallClockMs: 1_000 });
    dlq.advanceWallClockTime(234);
    await dlq.input().send({ key: 'x', value: '{' });
    expect(dlq.wallClockTime).toBe(1_234);
    expect(dlq.deadLetters.map((d) => [d.reason, d.failed_at])).toEqual([['malformed_json', 1_234]]);
  });

  it('feeds a reference table like its topic: versions by valid time, deletes as tombstones', async () => {
    const driver = await TestDriver.create(teamTagger, { wallClockMs: 1_000 });
    const services = driver.table('services');
    services.put('checkout', service('checkout', 'payments'), 100);
    services.put('checkout', service('checkout', 'orders'), 200);
    services.delete('checkout', 300);
    await driver.input().send([50, 150, 250, 350].map((timestamp) => ({ value: 'checkout', timestamp })));
    expect(driver.output('tagged').map((v) => v.toString())).toEqual([
      'checkout@payments',
      'checkout@orders',
    ]);
    expect(driver.counted.get('untagged:unknown_service')).toBe(2);
  });

  it('marks a partition idle until a record arrives on it', async () => {
    const driver = await TestDriver.create(passthrough);
    driver.markPartitionIdle(1);
    expect([driver.isIdle(0), driver.isIdle(1)]).toEqual([false, true]);
    await driver.input().send({ value: 'v', partition: 1 });
    expect(driver.isIdle(1)).toBe(false);
  });

  it('refuses an input topic the definition does not declare', async () => {
    const driver = await TestDriver.create(passthrough);
    expect(() => driver.input('passthrough.other')).toThrow(
      expect.objectContaining({ code: 'TRIBUTARY_DEFINITION_INVALID' }),
    );
  });

  it('gives the handler what open returned, and opens again on restart', async () => {
    const path = rulesFile('{"blocked": ["bad"]}');
    const driver = await TestDriver.create(rulesProcessor, { config: { rulesFile: path } });
    await driver.input().send([
      { key: 'bad', value: '1' },
      { key: 'good', value: '2' },
    ]);
    writeFileSync(path, '{"blocked": ["good"]}');
    await driver.restart();
    await driver.input().send([
      { key: 'bad', value: '3' },
      { key: 'good', value: '4' },
    ]);
    expect(driver.outputRecords('allowed').map((r) => r.key)).toEqual(['good', 'bad']);
    expect(driver.counted.get('blocked')).toBe(2);
  });

  it('fails at start naming the rules file and what to fix when open cannot load it', async () => {
    const missing = join(tmpdir(), 'no-such-dir', 'rules.json');
    await expect(TestDriver.create(rulesProcessor, { config: { rulesFile: missing } })).rejects.toMatchObject(
      {
        code: 'TRIBUTARY_DEFINITION_OPEN_FAILED',
        resource: missing,
        message: expect.stringContaining('set TRIBUTARY_RULES_FILE to a JSON file') as string,
      },
    );
    const notRules = rulesFile('{"blocked": "bad"}');
    await expect(TestDriver.create(rulesProcessor, { config: { rulesFile: notRules } })).rejects.toThrow(
      `${notRules}: the rules file is not {"blocked": [string, …]}`,
    );
  });
});
