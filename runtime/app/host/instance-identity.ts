// Two live copies with one instance id (one transactional id) fence each other in turn for ever when a
// supervisor restarts each fenced one: typically copies on two hosts that both took host-local slot 0.
// A fenced copy leaves a note in its state dir; a copy that starts with that note and finds a live member
// of its group under its own client id says so loudly and exits 2 instead of fencing that copy back.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { TributaryError } from '../../errors.ts';
import type { Logger } from '../../observability/index.ts';
import { withAdmin } from '../../kafka/index.ts';

/** A fence older than this is history, not a loop in progress. */
const FENCE_NOTE_MAX_AGE_MS = 15 * 60_000;

export interface InstanceIdentity {
  stateDir: string;
  group: string;
  instanceId: string;
  brokers: string;
  sessionTimeoutMs: number;
}

function notePath(identity: InstanceIdentity): string {
  return join(identity.stateDir, 'instances', identity.group, `${identity.instanceId}.fenced.json`);
}

/** Called when this copy was fenced: the next start with this id checks for a live twin first. */
export function recordFenced(identity: InstanceIdentity): void {
  const path = notePath(identity);
  mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
  writeFileSync(path, JSON.stringify({ fencedAt: Date.now(), pid: process.pid, host: hostname() }), {
    mode: 0o600,
  });
}

function recentlyFenced(identity: InstanceIdentity): boolean {
  try {
    const note = JSON.parse(readFileSync(notePath(identity), 'utf8')) as { fencedAt?: unknown };
    return typeof note.fencedAt === 'number' && Date.now() - note.fencedAt < FENCE_NOTE_MAX_AGE_MS;
  } catch {
    return false;
  }
}

async function membersWithClientId(identity: InstanceIdentity, clientId: string): Promise<string[]> {
  const described = await withAdmin(identity.brokers, (admin) => admin.describeGroups([identity.group]));
  const members = described.groups[0]?.members ?? [];
  return members.filter((m) => m.clientId === clientId).map((m) => m.clientHost);
}

/**
 * Throws TRIBUTARY_INSTANCE_ID_IN_USE when this copy was fenced lately and another live copy still holds
 * its id. A member left by a killed predecessor expires within the session timeout, so it is looked at
 * twice, a session timeout apart.
 */
export async function refuseDuplicateInstance(identity: InstanceIdentity, log: Logger): Promise<void> {
  if (!recentlyFenced(identity)) return;
  const clientId = `${identity.group}-${identity.instanceId}`;
  let hosts = await membersWithClientId(identity, clientId);
  if (hosts.length > 0) {
    log.warn(
      { clientId, hosts },
      'fenced lately and the group has a member with this id; checking it is live',
    );
    await new Promise((resolve) => setTimeout(resolve, identity.sessionTimeoutMs + 2000));
    hosts = await membersWithClientId(identity, clientId);
  }
  if (hosts.length === 0) {
    rmSync(notePath(identity), { force: true });
    return;
  }
  throw new TributaryError(
    'TRIBUTARY_INSTANCE_ID_IN_USE',
    `another live copy of ${identity.group} runs with instance id "${identity.instanceId}" (client ${clientId} ` +
      `at ${hosts.join(', ')}); it fenced this one, and starting would fence it back, for ever. Give every ` +
      'copy its own TRIBUTARY_INSTANCE_ID (one per host or container: a StatefulSet ordinal, a compose ' +
      'replica number); the default slot is unique only among copies sharing one state dir on one host.',
    { context: { group: identity.group, instanceId: identity.instanceId, hosts } },
  );
}
