import type { Command } from '../command.ts';
import { reconcileCommand } from './reconcile.ts';
import { demoCommand } from './demo.ts';
import { loadgenCommand } from './loadgen.ts';
import { refCommand } from './ref.ts';
import { queryCommand } from './query.ts';
import { runCommand } from './run.ts';
import { schemasCommand } from './schemas.ts';
import { stackCommand } from './stack.ts';
import { startCommand } from './start.ts';
import { statusCommand } from './status.ts';
import { testCommand } from './test.ts';
import { topCommand } from './top.ts';

// Every command the CLI knows, in the order `tributary help` lists them.
export const commands: Command[] = [
  demoCommand,
  testCommand,
  stackCommand,
  runCommand,
  startCommand,
  statusCommand,
  topCommand,
  refCommand,
  schemasCommand,
  loadgenCommand,
  queryCommand,
  reconcileCommand,
];
