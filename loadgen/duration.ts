// Durations as people type them on the command line.

/** `90`, `90s`, `1500ms`, `2m`, `1h` → seconds. */
export function parseDurationS(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (match === null) throw new Error(`expected a duration like 90, 90s, 1500ms or 2m, got "${text}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return unit === 'ms' ? value / 1000 : unit === 'm' ? value * 60 : unit === 'h' ? value * 3600 : value;
}
