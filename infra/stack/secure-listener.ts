// The local broker's optional SASL_SSL listener: SCRAM users, a certificate signed by a CA made on the
// spot with openssl, and the StandardAuthorizer (KRaft) so ACLs are enforced on it. The PLAINTEXT
// listener stays for the stack's own admin (its principal, ANONYMOUS, is a super user).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StackError } from './stack-error.ts';

const run = promisify(execFile);

export interface ScramUser {
  name: string;
  password: string;
}

export interface SecureListenerOptions {
  port: number;
  /** Where the CA and the broker's keystore are written (made by makeCertificates). */
  tls: BrokerTls;
  users: ScramUser[];
  /** Principals allowed everything, e.g. `admin`; every other user gets only what ACLs grant. */
  superUsers: string[];
}

export interface BrokerTls {
  caFile: string;
  keystoreFile: string;
  keystorePassword: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (error) {
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new StackError('kafka', `openssl ${args[0]} failed in ${cwd}: ${detail.trim()}`, { cause: error });
  }
}

/** A fresh CA (ca.pem) in `dir`; used alone it is also the "untrusted" CA of a test. */
export async function makeCertificateAuthority(dir: string, name = 'tributary-test-ca'): Promise<string> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`].concat([
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    ]),
    dir,
  );
  return join(dir, 'ca.pem');
}

const SUBJECT_ALT_NAMES = 'subjectAltName=IP:127.0.0.1,DNS:localhost\n';

/** A CA and a broker certificate for 127.0.0.1 / localhost signed by it, in a PKCS12 keystore. */
export async function makeBrokerCertificates(dir: string): Promise<BrokerTls> {
  const caFile = await makeCertificateAuthority(dir);
  const keystorePassword = randomBytes(12).toString('hex');
  writeFileSync(join(dir, 'san.ext'), SUBJECT_ALT_NAMES);
  const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext'];
  await openssl(
    [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'broker.key',
      '-out',
      'broker.csr',
    ],
    dir,
  );
  await openssl(['x509', '-req', '-in', 'broker.csr', ...sign, '-out', 'broker.pem'], dir);
  const keystore = ['-in', 'broker.pem', '-inkey', 'broker.key', '-out', 'broker.p12'];
  await openssl(['pkcs12', '-export', ...keystore, '-passout', `pass:${keystorePassword}`], dir);
  return { caFile, keystoreFile: join(dir, 'broker.p12'), keystorePassword };
}

const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

/** server.properties lines that add the listener; `listeners` and the protocol map are the caller's. */
export function secureListenerProperties(opts: SecureListenerOptions): string[] {
  const scramLogin = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  return [
    `sasl.enabled.mechanisms=${MECHANISMS.join(',')}`,
    ...MECHANISMS.map((m) => `listener.name.sasl_ssl.${m.toLowerCase()}.sasl.jaas.config=${scramLogin}`),
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${opts.tls.keystoreFile}`,
    `ssl.keystore.password=${opts.tls.keystorePassword}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=${['ANONYMOUS', ...opts.superUsers].map((u) => `User:${u}`).join(';')}`,
    'allow.everyone.if.no.acl.found=false',
  ];
}

/** StorageTool `format` arguments that create the SCRAM users with the cluster's metadata. */
export function scramFormatArgs(users: readonly ScramUser[]): string[] {
  return users.flatMap((user) =>
    MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${user.name},password=${user.password}]`]),
  );
}
