// How a runtime process exits. `process.exit` ends with libuv's library shutdown, which joins every
// threadpool thread; a librdkafka call that never answered (issue #5456: a send of offsets retried
// without end after a broker pause) keeps its thread forever, so the process would hang after logging
// that it stopped cleanly. Then, and only then, the exit skips the join: the 'exit' listeners run
// (pino flushes its buffer there), and libc's _exit ends the process with the asked code.
import koffi from 'koffi';
import { nativeCallsStillRunning } from '../../kafka/index.ts';

type LibcExit = (code: number) => void;

let libcExit: LibcExit | undefined;

function loadLibcExit(): LibcExit | undefined {
  try {
    const libc = koffi.load(process.platform === 'darwin' ? 'libSystem.B.dylib' : 'libc.so.6');
    return libc.func('void _exit(int)') as LibcExit;
  } catch {
    return undefined;
  }
}

/** Ends the process now with `code`, after the 'exit' listeners, without joining the libuv threadpool. */
export function exitWithoutJoiningThreads(code: number): never {
  process.exitCode = code;
  process.emit('exit', code);
  libcExit ??= loadLibcExit();
  if (libcExit !== undefined) libcExit(code);
  // No libc to call: the code is lost, but a hang would lose more (a supervisor restarts either way).
  process.kill(process.pid, 'SIGKILL');
  // The signal lands before the kill returns; nothing more may run meanwhile.
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

/** `process.exit(code)`, unless a native Kafka call is still running in a threadpool thread. */
export function exitProcess(code: number): never {
  if (nativeCallsStillRunning() > 0) exitWithoutJoiningThreads(code);
  process.exit(code);
}
