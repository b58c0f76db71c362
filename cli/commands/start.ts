// `tributary start`: every pipeline member as supervised OS processes on the local stack (started when
// it is not running), with a status view: redrawn every second on a terminal, a line per member every
// 10 s otherwise. Ctrl-C or SIGTERM stops every copy cleanly; the stack keeps running.
import { join } from 'node:path';
import { textTable } from '../../runtime/observability/terminal.ts';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import type { StackDefaults } from '../../infra/stack/defaults.ts';
import { startStack } from '../../infra/stack/stack.ts';
import type { StartResult } from '../../infra/stack/stack.ts';
import { PIPELINE_MEMBERS, parseCopies } from '../../infra/pipeline/members.ts';
import { groupOverview } from '../../infra/pipeline/kafka-overview.ts';
import { Supervisor } from '../../infra/pipeline/supervisor.ts';
import type { MemberObservation, SupervisorEvent } from '../../infra/pipeline/supervisor.ts';
import { withAdmin } from '../../runtime/kafka/index.ts';
import type { KafkaAdmin } from '../../runtime/kafka/index.ts';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';

const tty = process.stdout.isTTY;
const time = (): string => new Date().toISOString().slice(11, 19);
const num = (n: number): string => Math.round(n).toLocaleString('en-US');

function describeEvent(event: SupervisorEvent): string {
  if (event.type === 'started')
    return `${event.copy} started (pid ${event.pid ?? '?'}, health port ${event.port}${event.restarts > 0 ? `, restart ${event.restarts}` : ''})`;
  if (event.type === 'stuck')
    return `${event.copy} is stuck (/healthz: ${event.reason}); killing pid ${event.pid ?? '?'} to restart it`;
  if (event.restartInMs === undefined) return `${event.copy} exited: ${event.description}`;
  const wait = (event.restartInMs / 1000).toFixed(0);
  return `${event.copy} exited: ${event.description}; restarting in ${wait} s (output in ${event.logFile})`;
}

/** Lag per consumer group from committed offsets, for members whose processes export no lag gauge. */
class GroupLag {
  private readonly lag = new Map<string, number>();
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly brokers: string,
  ) {}

  get(group: string): number | undefined {
    return this.lag.get(group);
  }

  /** Refreshes unless a refresh is under way (then joins it); a failed one keeps the last figures. */
  refresh(groups: string[]): Promise<void> {
    this.refreshing ??= groupOverview(this.admin, this.brokers, '', groups)
      .then((found) => {
        for (const g of found) this.lag.set(g.group, g.lag);
      })
      .catch(() => undefined)
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}

function lagOf(member: MemberObservation, groupLag: GroupLag, prefix: string): string {
  const lag = member.lag ?? groupLag.get(prefix + member.name);
  return lag === undefined ? '-' : num(lag);
}

function notes(member: MemberObservation): string {
  return member.copies
    .filter((c) => !c.ready)
    .map((c) => `#${c.index} ${c.readyReason}`)
    .join('; ');
}

function statusTable(members: MemberObservation[], groupLag: GroupLag, prefix: string): string {
  const head = ['member', 'copies', 'ready', 'restarts', 'events/s', 'lag', 'dead letters', 'not ready'];
  const table = textTable({ head });
  for (const m of members)
    table.push([
      m.name,
      `${m.up}/${m.desired}`,
      `${m.ready}/${m.desired}`,
      m.restarts,
      num(m.eventsPerS),
      lagOf(m, groupLag, prefix),
      num(m.deadLetters),
      notes(m),
    ]);
  return table.toString();
}

function statusLines(members: MemberObservation[], groupLag: GroupLag, prefix: string): string {
  return members
    .map(
      (m) =>
        `[${time()}] ${m.name}: copies ${m.up}/${m.desired}, ready ${m.ready}, restarts ${m.restarts}, ` +
        `${num(m.eventsPerS)} events/s, lag ${lagOf(m, groupLag, prefix)}, dead letters ${num(m.deadLetters)}` +
        (notes(m) === '' ? '' : ` (${notes(m)})`),
    )
    .join('\n');
}

/** Waits for `promise`, but not longer than `ms`. */
async function settleWithin(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string): void => {
      process.removeListener('SIGINT', on);
      process.removeListener('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const startCommand: Command = {
  name: 'start',
  usage: 'start [--copies ingest=2[,name=N…]] [--prefix P] [--partitions 6]',
  summary: 'run every pipeline member supervised (restarts with backoff) with a live status view',
  async run(args) {
    const options = parseStartOptions(args);
    const stop = stopSignal();
    const defaults = stackDefaults();
    const stack = await startLocalStack(defaults);
    const logDir = join(defaults.dataDir, '..', 'pipeline', 'logs');
    const events: string[] = [];
    const supervisor = pipelineSupervisor(stack, options, logDir, eventLog(events));
    const header =
      `tributary start: ${PIPELINE_MEMBERS.map((m) => m.name).join(', ')} on ${stack.brokers}` +
      `${options.prefix === '' ? '' : `, prefix "${options.prefix}"`}; logs in ${logDir}`;
    console.log(`▶ ${header}`);
    await supervisor.start();
    const signal = await watchUntilStopped(
      supervisor,
      stack.brokers,
      options.prefix,
      { header, events },
      stop,
    );
    return stopEveryCopy(supervisor, signal);
  },
};

interface StartOptions {
  copies: Map<string, number>;
  prefix: string;
  partitions: number;
}

function parseStartOptions(args: string[]): StartOptions {
  const { positional, options } = parseArgs(args);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional.join(' ')}"`);
  const rawCopies = options.get('copies');
  if (rawCopies === true) throw new UsageError('--copies needs name=N');
  let copies: Map<string, number>;
  try {
    copies = parseCopies(rawCopies === undefined ? [] : [rawCopies]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const prefix = options.get('prefix') ?? options.get('topic-prefix') ?? '';
  if (prefix === true) throw new UsageError('--prefix needs a value');
  const partitions = numberOption(options, 'partitions', 6);
  return { copies, prefix, partitions };
}

async function startLocalStack(defaults: StackDefaults): Promise<StartResult> {
  console.log(`▶ local stack (data in ${defaults.dataDir})`);
  const stack = await startStack({ ...defaults, onProgress: (line) => console.log(`  ${line}`) });
  console.log(
    `  ${stack.alreadyRunning ? 'already running' : 'started'}: ${stack.brokers}, ${stack.registryUrl}`,
  );
  return stack;
}

function pipelineSupervisor(
  stack: StartResult,
  options: StartOptions,
  logDir: string,
  onEvent: (event: SupervisorEvent) => void,
): Supervisor {
  return new Supervisor({
    members: PIPELINE_MEMBERS.map((m) => ({
      name: m.name,
      copies: options.copies.get(m.name) ?? m.defaultCopies,
      ...(m.env === undefined ? {} : { env: m.env }),
    })),
    env: {
      TRIBUTARY_KAFKA_BROKERS: stack.brokers,
      TRIBUTARY_REGISTRY_URL: stack.registryUrl,
      TRIBUTARY_TOPIC_PREFIX: options.prefix,
      TRIBUTARY_DEFAULT_PARTITIONS: String(options.partitions),
    },
    logDir,
    onEvent,
  });
}

/** Each supervisor event as a line: kept in `events` for the view on a terminal (the last 6), else logged. */
function eventLog(events: string[]): (event: SupervisorEvent) => void {
  return (event) => {
    const line = `[${time()}] ${describeEvent(event)}`;
    if (tty) events.push(line);
    else console.log(line);
    events.splice(0, Math.max(0, events.length - 6));
  };
}

/** The status view's header and the latest supervisor events, drawn above and below the table. */
interface StatusView {
  header: string;
  events: string[];
}

/** Shows the status every period until the first stop signal, and returns that signal's name. */
function watchUntilStopped(
  supervisor: Supervisor,
  brokers: string,
  prefix: string,
  view: StatusView,
  stop: Promise<string>,
): Promise<string> {
  return withAdmin(brokers, async (admin) => {
    const groupLag = new GroupLag(admin, brokers);
    const groups = PIPELINE_MEMBERS.map((m) => prefix + m.name);
    const periodMs = tty ? 1000 : 10_000;
    for (;;) {
      const tick = new Promise<undefined>((resolve) =>
        setTimeout(() => resolve(undefined), periodMs).unref(),
      );
      const stopped = await Promise.race([stop, tick]);
      if (stopped !== undefined) {
        // At once: on a terminal the copies got the SIGINT too, and their exits must not look like crashes.
        void supervisor.stop();
        return stopped;
      }
      const [members] = await Promise.all([
        supervisor.observe(),
        settleWithin(groupLag.refresh(groups), 1000),
      ]);
      showStatus(members, groupLag, prefix, view);
    }
  });
}

/** Redraws the whole view on a terminal; otherwise a line per member. */
function showStatus(
  members: MemberObservation[],
  groupLag: GroupLag,
  prefix: string,
  view: StatusView,
): void {
  if (tty) {
    const lines = [
      view.header,
      statusTable(members, groupLag, prefix),
      ...view.events,
      'Ctrl-C stops every copy',
    ];
    process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
  } else {
    console.log(statusLines(members, groupLag, prefix));
  }
}

async function stopEveryCopy(supervisor: Supervisor, signal: string): Promise<number> {
  console.log(`▶ ${signal}: stopping every copy (SIGTERM, then SIGKILL after 30 s)`);
  const exits = await supervisor.stop();
  for (const e of exits)
    console.log(
      `  ${e.copy}: ${e.signal === null ? `exit ${e.code ?? '?'}` : e.signal}${e.forced ? ' (forced)' : ''}`,
    );
  console.log(`stopped; the stack keeps running (./tributary stack down stops it)`);
  return exits.every((e) => e.code === 0) ? 0 : 1;
}
