// What goes to a person's terminal: colour and live redraws only when the stream is a terminal and
// NO_COLOR is unset, so piped or redirected output (logs, scripts, CI) carries no escape codes.
import Table from 'cli-table3';
import type { TableConstructorOptions } from 'cli-table3';

export interface OutputStream {
  isTTY?: boolean;
}

/** True when `stream` is a terminal and the user has not asked for no colour (https://no-color.org). */
export function colourOn(stream: OutputStream = process.stdout): boolean {
  const noColour = process.env.NO_COLOR;
  return stream.isTTY === true && (noColour === undefined || noColour === '');
}

/** True when `stream` is a terminal: live lines may be redrawn in place (no colour implied). */
export function liveOn(stream: OutputStream = process.stdout): boolean {
  return stream.isTTY === true;
}

/** A cli-table3 table that is coloured only for a colour terminal. */
export function textTable(options: TableConstructorOptions = {}, colour = colourOn()): Table.Table {
  if (colour) return new Table(options);
  return new Table({ ...options, style: { ...options.style, head: [], border: [] } });
}
