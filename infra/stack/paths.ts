// Where the local stack finds what `infra/setup/setup.sh` prepared: the cache dir and the Kafka classpath.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackError } from './stack-error.ts';

/** The repository root (this file lives in infra/stack/). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Same rule as setup.sh: TRIBUTARY_CACHE_DIR, else $XDG_CACHE_HOME/tributary, else ~/.cache/tributary. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRIBUTARY_CACHE_DIR) return resolve(env.TRIBUTARY_CACHE_DIR);
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tributary');
}

/** The Kafka broker classpath resolved by setup (step "kafka jars"). */
export function kafkaClasspath(cache: string): string {
  const file = join(cache, 'kafka', 'classpath.txt');
  if (!existsSync(file)) {
    throw new StackError('kafka', `no Kafka classpath at ${file}. To fix: run ./tributary setup`);
  }
  return readFileSync(file, 'utf8').trim();
}

/** A java binary: $JAVA_HOME/bin/java when set, else `java` from PATH. */
export function javaBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
}
