// What a processor copy and a sink copy do the same way as one member of a consumer group: an instance
// id (claimed slot or configured), its group clients, health and metrics endpoints, waiting for Kafka and
// the registry at start, refusing to run beside a live twin, an exit code that says why it stopped, and
// closing everything on the way out. Each host supplies only its loop and what it needs to run it.
import { describeError } from '../../errors.ts';
import { redactConfig } from '../../config/index.ts';
import type { RuntimeConfig } from '../../config/index.ts';
import { startHealthServer } from '../../observability/index.ts';
import type { HealthServer, HealthStatus, Logger } from '../../observability/index.ts';
import type { Registry } from 'prom-client';
import { createGroupClients } from '../../kafka/index.ts';
import type { InputConsumer, TransactionalProducer } from '../../kafka/index.ts';
import { registryFromConfig } from '../../serde/index.ts';
import type { HttpSchemaRegistry } from '../../serde/index.ts';
import { claimInstanceSlot } from './instance-slot.ts';
import type { InstanceSlot } from './instance-slot.ts';
import { recordFenced, refuseDuplicateInstance } from './instance-identity.ts';
import type { InstanceIdentity } from './instance-identity.ts';
import { EXIT_FENCED, EXIT_OK, exitCodeFor, onStopSignal } from './process-lifecycle.ts';
import type { StopSignal } from './process-lifecycle.ts';
import { StartupProgress, kafkaDependency, registryDependency, waitForDependency } from './startup-wait.ts';
import type { WaitSettings } from './startup-wait.ts';

export interface GroupMemberSpec {
  /** The processor's or sink's name: its consumer group is the topic prefix + this. */
  name: string;
  config: RuntimeConfig;
  log: Logger;
  metrics: Registry;
  /** What a stop signal does, for the log line, e.g. 'finishing the batch in hand, then closing'. */
  onStopSays: string;
  /** Asked to stop (SIGTERM/SIGINT): finish what is in hand and return from the loop. */
  stop(): void;
  live(member: GroupMember): HealthStatus;
  ready(member: GroupMember): HealthStatus;
}

/** What the host gives the member's body. */
export class GroupMember {
  readonly startup = new StartupProgress();
  readonly registry: HttpSchemaRegistry;
  private readonly closers: Array<{ what: string; close: () => Promise<void> }> = [];

  constructor(
    readonly instanceId: string,
    readonly log: Logger,
    readonly consumer: InputConsumer,
    readonly producer: TransactionalProducer,
    private readonly identity: InstanceIdentity,
    private readonly config: RuntimeConfig,
    private readonly stopSignal: StopSignal,
  ) {
    this.registry = registryFromConfig(config);
  }

  /** True once a stop signal arrived (e.g. while starting, before the loop existed). */
  get stopRequested(): boolean {
    return this.stopSignal.requested;
  }

  /** Runs `work` (creating topics) while Kafka is unreachable, up to the startup deadline. */
  waitForKafka<T>(what: string, work: () => Promise<T>): Promise<T> {
    return waitForDependency(kafkaDependency(this.config.kafkaBrokers), what, work, this.waitSettings());
  }

  /** Runs `work` (registering or resolving schemas) while the registry is unreachable. */
  waitForRegistry<T>(what: string, work: () => Promise<T>): Promise<T> {
    return waitForDependency(registryDependency(this.registry.baseUrl), what, work, this.waitSettings());
  }

  /** Stops the start if a live copy of the group already runs with this instance id. */
  refuseDuplicateInstance(): Promise<void> {
    return refuseDuplicateInstance(this.identity, this.log);
  }

  /** Closed after the group clients, in the order added; a failure is logged, not thrown. */
  onClose(what: string, close: () => Promise<void>): void {
    this.closers.push({ what, close });
  }

  /** The group clients first, then what the body added. */
  async closeAll(): Promise<void> {
    await this.closeQuietly('consumer', () => this.consumer.disconnect());
    await this.closeQuietly('producer', () => this.producer.disconnect());
    for (const { what, close } of this.closers) await this.closeQuietly(what, close);
  }

  async closeQuietly(what: string, close: () => Promise<void>): Promise<void> {
    try {
      await close();
    } catch (error) {
      this.log.warn({ err: error }, `closing ${what} failed`);
    }
  }

  private waitSettings(): WaitSettings {
    return { deadlineMs: this.config.startupDeadlineMs, log: this.log, progress: this.startup };
  }
}

const FENCED_MESSAGE =
  'fenced: another copy took over this transactional id; stopping (if that copy is alive and not a ' +
  'replacement of this one, give each copy its own TRIBUTARY_INSTANCE_ID)';

/** Runs `body` as one member of the group and returns the process's exit code. */
export async function runGroupMember(
  spec: GroupMemberSpec,
  body: (member: GroupMember) => Promise<void>,
): Promise<number> {
  const { config } = spec;
  const group = config.topicPrefix + spec.name;
  let slot: InstanceSlot | undefined;
  const instanceId = config.instanceId ?? (slot = claimInstanceSlot(config.stateDir, group)).id;
  const log = spec.log.child({ instance: instanceId });
  const identity = {
    stateDir: config.stateDir,
    group,
    instanceId,
    brokers: config.kafkaBrokers,
    sessionTimeoutMs: config.sessionTimeoutMs,
  };
  log.info({ config: redactConfig(config) }, `starting ${spec.name}`);
  const { consumer, producer } = createGroupClients({
    brokers: config.kafkaBrokers,
    group,
    instanceId,
    sessionTimeoutMs: config.sessionTimeoutMs,
    transactionTimeoutMs: config.transactionTimeoutMs,
    log,
  });
  const stopSignal = onStopSignal(log, config.shutdownTimeoutMs, spec.onStopSays, () => spec.stop());
  const member = new GroupMember(instanceId, log, consumer, producer, identity, config, stopSignal);
  let health: HealthServer | undefined;
  let exitCode = EXIT_OK;
  try {
    health = await startHealthServer(config.httpHost, config.httpPort, {
      metrics: spec.metrics,
      live: () => spec.live(member),
      ready: () => spec.ready(member),
    });
    log.info({ port: health.port }, `health and metrics on http://${config.httpHost}:${health.port}`);
    await body(member);
    log.info('loop stopped cleanly');
  } catch (error) {
    exitCode = exitCodeFor(error);
    if (exitCode === EXIT_FENCED) recordFenced(identity);
    log.error(
      { err: error },
      exitCode === EXIT_FENCED ? FENCED_MESSAGE : `stopping on error: ${describeError(error)}`,
    );
  } finally {
    await member.closeAll();
    const server = health;
    if (server !== undefined) await member.closeQuietly('health server', server.close);
    slot?.release();
    stopSignal.done();
  }
  log.info({ exitCode }, 'stopped');
  return exitCode;
}
