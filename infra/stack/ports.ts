// Port checks before starting: is a port free, and if not, who holds it (from `ss -ltnp`).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { StackError } from './stack-error.ts';
import type { StackComponent } from './stack-error.ts';

function listen(port: number): Promise<{ port: number; close: () => Promise<void> }> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : port;
      resolve({ port: bound, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

// A port is picked now and bound later by another process. One from the kernel's ephemeral range (what
// listen(0) gives) can be handed meanwhile to any outgoing connection or listen(0) on the machine: a sink
// once failed with EADDRINUSE on its query port that way. So ports are picked below that range.
const PICK_FROM = 10_000;
const handedOut = new Set<number>();

/** The kernel's ephemeral port range (ip_local_port_range); Linux's default when it cannot be read. */
export function ephemeralPortRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    if (Number(low) > 0 && Number(high) >= Number(low)) return [Number(low), Number(high)];
  } catch {
    // not Linux: the default range below
  }
  return [32_768, 60_999];
}

/** Binds a free port below the ephemeral range, at random (not one this process handed out already). */
async function bindFreePort(): Promise<{ port: number; close: () => Promise<void> }> {
  const span = ephemeralPortRange()[0] - PICK_FROM;
  for (let attempt = 0; span >= 1000 && attempt < 50; attempt++) {
    const port = PICK_FROM + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    try {
      const server = await listen(port);
      handedOut.add(port);
      return server;
    } catch {
      // taken: try another
    }
  }
  return listen(0);
}

/** A TCP port free on 127.0.0.1 right now, outside the range the OS hands out on its own. */
export async function findFreePort(): Promise<number> {
  const server = await bindFreePort();
  await server.close();
  return server.port;
}

/** `count` distinct free ports, held open together while they are picked so they differ. */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers = [];
  for (let i = 0; i < count; i++) servers.push(await bindFreePort());
  await Promise.all(servers.map((s) => s.close()));
  return servers.map((s) => s.port);
}

/** Who listens on `port`, e.g. `java (pid 1234: java -cp … kafka.Kafka …)`, if `ss` can tell. */
export function describePortHolder(port: number): string | undefined {
  let out: string;
  try {
    out = execFileSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8', timeout: 2000 });
  } catch {
    return undefined;
  }
  const match = /users:\(\("([^"]+)",pid=(\d+)/.exec(out);
  if (match === null) return out.trim() === '' ? undefined : out.trim().split('\n')[0];
  const [, name, pid] = match;
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    // the holder may have exited meanwhile, or belong to another user
  }
  // Our own stacks are recognisable by the config paths on their command lines.
  const ours =
    /-Dlog4j2\.configurationFile=(\S+)\/kafka\/log4j2\.properties|snapshot\.location=(\S+)\/registry(?:\s|$)/.exec(
      cmdline,
    );
  const stackDir = ours?.[1] ?? ours?.[2];
  if (stackDir !== undefined)
    return `the Tributary stack in ${stackDir} (${name} pid ${pid}; "tributary stack down --data-dir ${stackDir}" stops it)`;
  if (cmdline.length > 160) cmdline = `${cmdline.slice(0, 160)}…`;
  return `${name} (pid ${pid}${cmdline === '' ? '' : `: ${cmdline}`})`;
}

/** Throws a StackError naming the port and its holder when `port` cannot be bound on 127.0.0.1. */
export async function assertPortFree(component: StackComponent, role: string, port: number): Promise<void> {
  try {
    const server = await listen(port);
    await server.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const holder = code === 'EADDRINUSE' ? describePortHolder(port) : undefined;
    const why = code === 'EADDRINUSE' ? 'is already in use' : `cannot be bound (${code ?? String(error)})`;
    throw new StackError(
      component,
      `${role} port ${port} ${why}${holder === undefined ? '' : `, held by ${holder}`}. ` +
        `To fix: stop that process or choose another port.`,
      { cause: error },
    );
  }
}
