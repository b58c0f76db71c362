// The least ACLs of a processor, as the README lists them, for the ACL tests on the secured cluster.
import type { AclGrant } from '../../infra/stack/acls.ts';

/**
 * READ+DESCRIBE its inputs, WRITE+DESCRIBE its outputs, READ+WRITE+DESCRIBE its state changelogs,
 * READ+DESCRIBE its group, WRITE+DESCRIBE its transactional ids.
 */
export function processorAcls(
  user: string,
  prefix: string,
  name: string,
  inputs: string[],
  outputs: string[],
  changelogs: string[] = [],
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
  return [
    ...inputs.flatMap((t) => [grant('TOPIC', prefix + t, 'READ'), grant('TOPIC', prefix + t, 'DESCRIBE')]),
    ...outputs.flatMap((t) => [grant('TOPIC', prefix + t, 'WRITE'), grant('TOPIC', prefix + t, 'DESCRIBE')]),
    ...changelogs.flatMap((t) => [
      grant('TOPIC', prefix + t, 'READ'),
      grant('TOPIC', prefix + t, 'WRITE'),
      grant('TOPIC', prefix + t, 'DESCRIBE'),
    ]),
    grant('GROUP', prefix + name, 'READ'),
    grant('GROUP', prefix + name, 'DESCRIBE'),
    grant('TRANSACTIONAL_ID', `${prefix}${name}-`, 'WRITE', 'PREFIXED'),
    grant('TRANSACTIONAL_ID', `${prefix}${name}-`, 'DESCRIBE', 'PREFIXED'),
  ];
}
