// `tributary stack up | down | status`: the local Kafka + schema registry, as detached processes.
import { textTable } from '../../runtime/observability/terminal.ts';
import { stackDefaults } from '../../infra/stack/defaults.ts';
import type { StackOptions } from '../../infra/stack/stack.ts';
import { StackError, stackStatus, startStack, stopStack } from '../../infra/stack/stack.ts';
import type { Command } from '../command.ts';
import { UsageError, numberOption, parseArgs } from '../command.ts';

const log = (line: string): void => console.log(`  ${line}`);

function options(args: string[]): StackOptions {
  const { positional, options: opts } = parseArgs(args);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional.join(' ')}"`);
  const defaults = stackDefaults();
  const dataDir = opts.get('data-dir');
  if (dataDir === true) throw new UsageError('--data-dir needs a path');
  return {
    dataDir: dataDir ?? defaults.dataDir,
    kafkaPort: numberOption(opts, 'kafka-port', defaults.kafkaPort),
    controllerPort: numberOption(opts, 'controller-port', defaults.controllerPort),
    registryPort: numberOption(opts, 'registry-port', defaults.registryPort),
    onProgress: log,
  };
}

async function up(opts: StackOptions): Promise<number> {
  const started = Date.now();
  console.log(`stack up (data in ${opts.dataDir})`);
  const info = await startStack(opts);
  if (info.alreadyRunning) {
    console.log('stack already running:');
  } else {
    console.log(`stack started in ${((Date.now() - started) / 1000).toFixed(1)} s:`);
  }
  console.log(`  brokers       ${info.brokers}   (Kafka pid ${info.kafkaPid})`);
  console.log(`  registry url  ${info.registryUrl}   (pid ${info.registryPid})`);
  console.log(`  logs          ${info.dataDir}/logs/`);
  const ports = [opts.kafkaPort, opts.registryPort].join(', ');
  if (info.alreadyRunning && !info.brokers.endsWith(`:${opts.kafkaPort}`)) {
    console.log(
      `  note: it runs on its own ports, not the ones asked for (${ports}); "stack down" first to change them`,
    );
  }
  return 0;
}

async function down(opts: StackOptions): Promise<number> {
  const result = await stopStack(opts.dataDir, log);
  console.log(result.wasRunning ? 'stack stopped' : `no stack running in ${opts.dataDir}`);
  return 0;
}

async function status(opts: StackOptions): Promise<number> {
  const s = await stackStatus(opts.dataDir);
  if (s.state === 'stopped') {
    console.log(`stack stopped (no state in ${s.dataDir})`);
    return 3;
  }
  const table = textTable({ head: ['component', 'pid', 'process', 'answers', 'address'] });
  for (const c of s.components) {
    table.push([
      c.name,
      c.pid ?? '-',
      c.running ? 'running' : 'not running',
      c.ready ? 'yes' : 'no',
      c.address,
    ]);
  }
  console.log(`stack ${s.state} (started ${s.startedAt ?? '?'}, data in ${s.dataDir})`);
  console.log(table.toString());
  if (s.state === 'degraded')
    console.log(`to restart it: tributary stack down && tributary stack up (logs in ${s.dataDir}/logs/)`);
  if (s.state === 'stale')
    console.log('its processes are gone; "tributary stack up" cleans up and starts it again');
  return s.state === 'running' ? 0 : 1;
}

export const stackCommand: Command = {
  name: 'stack',
  usage: 'stack up|down|status [--data-dir DIR] [--kafka-port N] [--controller-port N] [--registry-port N]',
  summary: 'start, stop or show the local Kafka + schema registry (defaults: 9092, 9093, 8081)',
  async run(args) {
    const [action, ...rest] = args;
    const actions: Record<string, (opts: StackOptions) => Promise<number>> = { up, down, status };
    const handler = action === undefined ? undefined : actions[action];
    if (handler === undefined)
      throw new UsageError(
        `stack needs one of up, down, status${action === undefined ? '' : `, got "${action}"`}`,
      );
    try {
      return await handler(options(rest));
    } catch (error) {
      if (!(error instanceof StackError)) throw error;
      console.error(`stack ${action}: ${error.message}`);
      return 1;
    }
  },
};
