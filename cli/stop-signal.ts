// A command that repeats until Ctrl-C or SIGTERM: the signal ends the wait between ticks (or a tick
// still running), so the command returns and exits cleanly instead of being killed mid-write.

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `tick`, then again every `periodMs` until SIGINT or SIGTERM (returned); `periodMs` 0 runs it
 * once. The handlers are removed on return, so a second Ctrl-C afterwards kills as usual.
 */
export async function untilStopped(periodMs: number, tick: () => Promise<void>): Promise<string | undefined> {
  let onSignal: (signal: string) => void = () => undefined;
  const stopped = new Promise<string>((resolve) => (onSignal = resolve));
  for (const signal of SIGNALS) process.on(signal, onSignal);
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const signal = await Promise.race([tick().then(() => undefined), stopped]);
      if (signal !== undefined) return signal;
      if (periodMs <= 0) return undefined;
      const waited = new Promise<undefined>(
        (resolve) => (timer = setTimeout(() => resolve(undefined), periodMs)),
      );
      const during = await Promise.race([waited, stopped]);
      if (during !== undefined) return during;
    }
  } finally {
    clearTimeout(timer);
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  }
}
