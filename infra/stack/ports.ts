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

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export async function findFreePort(): Promise<number> {
  const server = await listen(0);
  await server.close();
  return server.port;
}

/** `count` distinct free ports, held open together while they are picked so they differ. */
export async function findFreePorts(count: number): Promise<number[]> {
  const servers = [];
  for (let i = 0; i < count; i++) servers.push(await listen(0));
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
