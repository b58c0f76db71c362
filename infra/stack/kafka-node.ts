// One Kafka 4.1 node in KRaft combined mode (broker + controller) on 127.0.0.1, from the jars setup resolved.
// Layout under <dataDir>/kafka: server.properties, log4j2.properties, format.json, data/ (log.dirs);
// its output goes to <dataDir>/logs/kafka.log.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KafkaJS } from '@confluentinc/kafka-javascript';
import { javaBinary, kafkaClasspath } from './paths.ts';
import type { ProcessRecord } from './processes.ts';
import { isAlive, sleep, spawnDetached, tailFile } from './processes.ts';
import { StackError } from './stack-error.ts';
import { scramFormatArgs, secureListenerProperties } from './secure-listener.ts';
import type { SecureListenerOptions } from './secure-listener.ts';

export interface KafkaNodeOptions {
  dataDir: string;
  cacheDir: string;
  kafkaPort: number;
  controllerPort: number;
  /** Broker JVM heap, e.g. `512m`. */
  heap?: string;
  /** Adds a SASL_SSL listener with SCRAM users and the ACL authorizer; unset = PLAINTEXT only. */
  secure?: SecureListenerOptions;
}

interface FormatRecord {
  clusterId: string;
  controllerPort: number;
  formattedAt: string;
}

const kafkaDir = (dataDir: string): string => join(dataDir, 'kafka');

function serverProperties(opts: KafkaNodeOptions): string {
  const { kafkaPort, controllerPort, secure } = opts;
  const listeners = [`PLAINTEXT://127.0.0.1:${kafkaPort}`, `CONTROLLER://127.0.0.1:${controllerPort}`];
  const protocols = ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT'];
  if (secure !== undefined) {
    listeners.push(`SASL_SSL://127.0.0.1:${secure.port}`);
    protocols.push('SASL_SSL:SASL_SSL');
  }
  return [
    '# Written by infra/stack/kafka-node.ts on each start: edits here are overwritten.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=127.0.0.1:${controllerPort}`,
    `listeners=${listeners.join(',')}`,
    `advertised.listeners=${listeners.join(',')}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `listener.security.protocol.map=${protocols.join(',')}`,
    ...(secure === undefined ? [] : secureListenerProperties(secure)),
    `log.dirs=${join(kafkaDir(opts.dataDir), 'data')}`,
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=10',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

const LOG4J2 = `# Written by infra/stack/kafka-node.ts: Kafka's own output, to stdout (the stack's kafka.log).
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.config.name = org.apache.kafka.common.config
logger.config.level = WARN
`;

const run = promisify(execFile);

/** What `StorageTool random-uuid` prints (base64url of 16 random bytes), without paying for a JVM start. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // Kafka avoids ids that look like a command-line flag
  }
}

/** Formats the storage once per data dir; later starts keep the cluster id and the data. */
async function formatOnce(opts: KafkaNodeOptions, java: string, classpath: string): Promise<void> {
  const dir = kafkaDir(opts.dataDir);
  const recordFile = join(dir, 'format.json');
  if (existsSync(join(dir, 'data', 'meta.properties'))) {
    if (!existsSync(recordFile)) return;
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as FormatRecord;
    if (record.controllerPort !== opts.controllerPort) {
      // KRaft stores the controller's endpoint in its metadata at format time (--standalone).
      throw new StackError(
        'kafka',
        `the Kafka data in ${dir} was formatted with controller port ${record.controllerPort}, not ${opts.controllerPort}. ` +
          `To fix: use controller port ${record.controllerPort}, or delete ${dir} to start with empty Kafka data.`,
      );
    }
    return;
  }
  const cp = ['-cp', classpath, 'kafka.tools.StorageTool'];
  try {
    const clusterId = randomClusterId();
    const properties = join(dir, 'server.properties');
    const users = scramFormatArgs(opts.secure?.users ?? []);
    await run(java, [...cp, 'format', '-t', clusterId, '-c', properties, '--standalone', ...users], {
      timeout: 60_000,
    });
    const record: FormatRecord = {
      clusterId,
      controllerPort: opts.controllerPort,
      formattedAt: new Date().toISOString(),
    };
    writeFileSync(recordFile, `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new StackError('kafka', `formatting Kafka storage in ${dir} failed: ${detail.trim()}`, {
      cause: error,
    });
  }
}

/** Writes the config, formats storage if needed and spawns the broker detached. Does not wait for it. */
export async function startKafkaNode(opts: KafkaNodeOptions): Promise<ProcessRecord> {
  const dir = kafkaDir(opts.dataDir);
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(opts.dataDir, 'logs'), { recursive: true });
  // It may hold the keystore password: readable by this user only.
  writeFileSync(join(dir, 'server.properties'), serverProperties(opts), { mode: 0o600 });
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J2);
  const java = javaBinary();
  const classpath = kafkaClasspath(opts.cacheDir);
  await formatOnce(opts, java, classpath);
  return spawnDetached({
    component: 'kafka',
    command: java,
    args: [
      `-Xmx${opts.heap ?? '512m'}`,
      '-Xms128m',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`,
      '-cp',
      classpath,
      'kafka.Kafka',
      join(dir, 'server.properties'),
    ],
    cwd: dir,
    logFile: join(opts.dataDir, 'logs', 'kafka.log'),
  });
}

function tcpAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** One metadata round trip through the admin client; throws when the broker does not answer. */
export async function listTopics(brokers: string, timeoutMs = 5000): Promise<string[]> {
  const admin = new KafkaJS.Kafka({
    kafkaJS: { brokers: [brokers], logLevel: KafkaJS.logLevel.NOTHING, connectionTimeout: timeoutMs },
  }).admin();
  await admin.connect();
  try {
    return await admin.listTopics({ timeout: timeoutMs });
  } finally {
    await admin.disconnect();
  }
}

/** Resolves once the broker answers a metadata request; fails fast if the process dies, with its log. */
export async function waitForKafka(record: ProcessRecord, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'port not open yet';
  while (Date.now() < deadline) {
    if (!isAlive(record)) {
      throw new StackError(
        'kafka',
        `Kafka (pid ${record.pid}) exited while starting. Last lines of ${record.logFile}:\n${tailFile(record.logFile)}`,
      );
    }
    if (await tcpAccepts(port)) {
      try {
        await listTopics(`127.0.0.1:${port}`, 3000);
        return;
      } catch (error) {
        lastError = (error as Error).message;
      }
    }
    await sleep(250);
  }
  throw new StackError(
    'kafka',
    `Kafka did not answer metadata on 127.0.0.1:${port} within ${Math.round(timeoutMs / 1000)} s (last: ${lastError}). ` +
      `Last lines of ${record.logFile}:\n${tailFile(record.logFile)}`,
  );
}
