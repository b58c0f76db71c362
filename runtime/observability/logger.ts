// pino: JSON lines for machines; pretty only when a person is watching a terminal.
import { pino } from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';
import { colourOn } from './terminal.ts';

export type { Logger } from 'pino';

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Force pretty or JSON output; by default pretty only when stdout is a TTY. */
  pretty?: boolean;
  /** File descriptor of JSON output; default 1 (stdout). Tools log to 2 so their stdout stays data. */
  fd?: number;
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { name: options.name, level: options.level ?? 'info' };
  const usePretty = options.pretty ?? process.stdout.isTTY;
  if (usePretty) {
    return pino(
      base,
      pretty({ colorize: colourOn(), sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
    );
  }
  return pino(base, pino.destination({ fd: options.fd ?? 1, sync: false }));
}
