// ACLs on the local broker (see KafkaAcls.java), for tests that run a processor with least privileges.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, javaBinary, kafkaClasspath, repoRoot } from './paths.ts';
import { StackError } from './stack-error.ts';

const run = promisify(execFile);

export type AclResource = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID' | 'CLUSTER';

export interface AclGrant {
  principal: string;
  resource: AclResource;
  name: string;
  pattern: 'LITERAL' | 'PREFIXED';
  operation: 'READ' | 'WRITE' | 'CREATE' | 'DESCRIBE' | 'DESCRIBE_CONFIGS' | 'IDEMPOTENT_WRITE' | 'ALTER';
}

const spec = (g: AclGrant): string => [g.principal, g.resource, g.name, g.pattern, g.operation].join(',');

/** Adds or removes the grants through the broker's PLAINTEXT listener (a super user there). */
export async function changeAcls(
  brokers: string,
  change: 'add' | 'remove',
  grants: AclGrant[],
): Promise<void> {
  const program = join(repoRoot, 'infra', 'stack', 'KafkaAcls.java');
  const args = ['-cp', kafkaClasspath(cacheDir()), program, brokers, change, ...grants.map(spec)];
  try {
    await run(javaBinary(), args, { timeout: 60_000 });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new StackError('kafka', `${change} ACLs on ${brokers} failed: ${detail.trim()}`, { cause: error });
  }
}
