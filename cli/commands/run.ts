import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { processors } from '../../processors/index.ts';
import { runProcessor } from '../../runtime/index.ts';

export const runCommand: Command = {
  name: 'run',
  usage: 'run <processor>',
  summary: 'run one copy of a processor in the foreground (again in another terminal adds a copy)',
  async run(args) {
    const [name] = args;
    const load = name === undefined ? undefined : processors[name];
    if (load === undefined)
      throw new UsageError(`which processor? one of: ${Object.keys(processors).join(', ')}`);
    return runProcessor(await load());
  },
};
