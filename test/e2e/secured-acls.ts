// The least ACLs of a processor, as the README lists them, for the ACL tests on the secured cluster; and
// what those tests need around them: the operator's topics, the messages of a process that was refused.
import type { AclGrant } from '../../infra/stack/acls.ts';
import { createTopics } from '../../runtime/testing/kafka-test-kit.ts';

/** A processor's topics by role, logical names (the prefix is added). */
export interface ProcessorTopics {
  inputs: string[];
  /** Outputs and dead-letter topics. */
  outputs: string[];
  /** `<name>.<store>.changelog` of each store, the runtime's `watermarks` included. */
  changelogs?: string[];
  /** Reference-table topics. */
  tables?: string[];
}

/**
 * READ+DESCRIBE its inputs and tables, WRITE+DESCRIBE its outputs, READ+WRITE+DESCRIBE its state
 * changelogs, READ+DESCRIBE its group, WRITE+DESCRIBE its transactional ids.
 */
export function processorAcls(
  user: string,
  prefix: string,
  name: string,
  topics: ProcessorTopics,
): AclGrant[] {
  const principal = `User:${user}`;
  const grant = (
    resource: AclGrant['resource'],
    target: string,
    operation: AclGrant['operation'],
    pattern: AclGrant['pattern'] = 'LITERAL',
  ): AclGrant => ({
    principal,
    resource,
    name: target,
    pattern,
    operation,
  });
  const onTopics = (names: string[] | undefined, operations: AclGrant['operation'][]): AclGrant[] =>
    (names ?? []).flatMap((t) => operations.map((operation) => grant('TOPIC', prefix + t, operation)));
  return [
    ...onTopics(topics.inputs, ['READ', 'DESCRIBE']),
    ...onTopics(topics.tables, ['READ', 'DESCRIBE']),
    ...onTopics(topics.outputs, ['WRITE', 'DESCRIBE']),
    ...onTopics(topics.changelogs, ['READ', 'WRITE', 'DESCRIBE']),
    grant('GROUP', prefix + name, 'READ'),
    grant('GROUP', prefix + name, 'DESCRIBE'),
    grant('TRANSACTIONAL_ID', `${prefix}${name}-`, 'WRITE', 'PREFIXED'),
    grant('TRANSACTIONAL_ID', `${prefix}${name}-`, 'DESCRIBE', 'PREFIXED'),
  ];
}

/** The grant of `operation` on the (prefixed) topic among `grants`, to take it away and give it back. */
export function topicGrant(grants: AclGrant[], topic: string, operation: AclGrant['operation']): AclGrant[] {
  const found = grants.filter((g) => g.resource === 'TOPIC' && g.name === topic && g.operation === operation);
  if (found.length !== 1) throw new Error(`no single ${operation} grant on topic ${topic}`);
  return found;
}

/**
 * The messages a process logged (pino JSON lines). Other lines are skipped, and so is a line that stderr
 * output cut in two (the run's stdout and stderr arrive interleaved).
 */
export function logMessages(output: string): string[] {
  return output.split('\n').flatMap((line) => {
    try {
      const { msg } = JSON.parse(line) as { msg?: unknown };
      return typeof msg === 'string' ? [msg] : [];
    } catch {
      return [];
    }
  });
}

/** The `stopping on error: …` message a process logged last, or '' without one. */
export function stopMessage(output: string): string {
  return logMessages(output).findLast((m) => m.startsWith('stopping on error')) ?? '';
}

/**
 * Creates the topics as an operator would (the processors under test may not create them): `compacted`
 * ones (changelogs, reference tables) with cleanup.policy=compact, the rest with delete.
 */
export async function createOperatorTopics(
  brokers: string,
  prefix: string,
  partitions: number,
  topics: { plain: string[]; compacted?: string[] },
): Promise<void> {
  const spec = (cleanupPolicy: 'delete' | 'compact') => (t: string) => ({
    name: prefix + t,
    partitions,
    cleanupPolicy,
  });
  await createTopics(brokers, [
    ...topics.plain.map(spec('delete')),
    ...(topics.compacted ?? []).map(spec('compact')),
  ]);
}
