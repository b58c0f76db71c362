// The stack the globalSetup started answers like a real one, and a taken port is refused by name.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { findFreePorts } from './ports.ts';
import { stackStatus, startStack, StackError } from './stack.ts';

const brokers = inject('brokers');
const registryUrl = inject('registryUrl');

describe('the test stack', () => {
  const admin = new KafkaJS.Kafka({
    kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.NOTHING },
  }).admin();
  const topic = `stack-test-${randomUUID()}`;

  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('lists a topic created through the admin client in the broker metadata', async () => {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }] });
    const [metadata] = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata?.partitions).toHaveLength(2);
    expect(await admin.listTopics()).toContain(topic);
  });

  it('has a schema registry answering GET /subjects with 200 and a JSON list', async () => {
    const response = await fetch(`${registryUrl}/subjects`);
    expect(response.status).toBe(200);
    expect(Array.isArray(await response.json())).toBe(true);
  });
});

describe('startStack', () => {
  let holder: Server | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'tributary-stack-conflict-'));

  afterAll(() => {
    holder?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a Kafka port that is taken, naming the port, and starts nothing', async () => {
    const [takenPort = 0, controllerPort = 0, registryPort = 0] = await findFreePorts(3);
    const server = createServer();
    holder = server;
    await new Promise<void>((resolve) => server.listen(takenPort, '127.0.0.1', resolve));

    const attempt = startStack({ dataDir, kafkaPort: takenPort, controllerPort, registryPort });

    await expect(attempt).rejects.toBeInstanceOf(StackError);
    await expect(attempt).rejects.toThrow(new RegExp(`Kafka port ${takenPort} is already in use`));
    expect((await stackStatus(dataDir)).state).toBe('stopped');
  });
});
