import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { processors } from '../../processors/index.ts';
import { sinks } from '../../connectors/index.ts';
import { runProcessor, runSink } from '../../runtime/index.ts';

/** Short names for sinks: `run sink` is the ClickHouse sink. */
const SINK_ALIASES: Record<string, string> = { sink: 'clickhouse-sink' };

export const runCommand: Command = {
  name: 'run',
  usage: 'run <processor|sink>',
  summary: 'run one copy of a processor or sink in the foreground (again in another terminal adds a copy)',
  async run(args) {
    const [given] = args;
    const name = given === undefined ? undefined : (SINK_ALIASES[given] ?? given);
    const loadSink = name === undefined ? undefined : sinks[name];
    if (loadSink !== undefined) return runSink(await loadSink());
    const load = name === undefined ? undefined : processors[name];
    if (load === undefined)
      throw new UsageError(
        `which processor or sink? one of: ${[...Object.keys(processors), ...Object.keys(sinks), 'sink'].join(', ')}`,
      );
    return runProcessor(await load());
  },
};
