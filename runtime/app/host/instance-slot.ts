// Gives each copy of a processor on this machine a stable slot number: a restarted copy gets its old
// slot back (so its transactional id fences its own zombie and aborts its dangling transaction at once),
// while copies running side by side get different ones. Slots are host-local: copies on several hosts
// (or containers that do not share the state dir) need TRIBUTARY_INSTANCE_ID each (see the README).
import { join } from 'node:path';
import { TributaryError } from '../../errors.ts';
import { tryClaim } from './exclusive-claim.ts';

export interface InstanceSlot {
  id: string;
  release(): void;
}

export function claimInstanceSlot(stateDir: string, group: string, maxSlots = 256): InstanceSlot {
  const dir = join(stateDir, 'instances', group);
  for (let slot = 0; slot < maxSlots; slot++) {
    const result = tryClaim(dir, `slot-${slot}`, { pid: process.pid });
    if (result.claimed) return { id: String(slot), release: () => result.claim.release() };
  }
  throw new TributaryError(
    'TRIBUTARY_INSTANCE_LOCKED',
    `no free instance slot for ${group} under ${dir} (${maxSlots} copies alive?)`,
    { context: { group, dir, maxSlots } },
  );
}
