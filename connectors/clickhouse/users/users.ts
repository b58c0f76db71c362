// The ClickHouse server's users (sink-user.sql, dashboard-user.sql) made ready to run: the files name the
// database `tributary` and hold a placeholder for the password's SHA-256, so they read (and run by hand)
// as they are; this gives their statements for a database and a password, as compose's setup runs them.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TributaryError } from '../../../runtime/index.ts';
import { splitStatements } from '../migrations.ts';

export const USERS_DIR = fileURLToPath(new URL('./', import.meta.url));

/** The users, by role: the file that creates each and the user it creates. */
export const SERVER_USERS = {
  sink: { file: 'sink-user.sql', user: 'tributary_sink' },
  dashboard: { file: 'dashboard-user.sql', user: 'tributary_dashboard' },
} as const;
export type ServerUserRole = keyof typeof SERVER_USERS;

const PASSWORD_PLACEHOLDER = 'REPLACE_WITH_SHA256_OF_PASSWORD';
const DATABASE_IN_FILES = /\bON tributary\./g;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface UserSqlOptions {
  database: string;
  password: string;
}

/** The statements that create `role`'s user and its grants on `database`, with `password`'s hash. */
export function userStatements(role: ServerUserRole, options: UserSqlOptions, dir = USERS_DIR): string[] {
  if (!IDENTIFIER.test(options.database))
    throw invalid(`database name "${options.database}" is not a plain identifier`);
  if (options.password === '') throw invalid(`the ${role} user's password is empty`);
  const text = readFileSync(`${dir}/${SERVER_USERS[role].file}`, 'utf8');
  if (!text.includes(PASSWORD_PLACEHOLDER))
    throw invalid(`${SERVER_USERS[role].file} has no ${PASSWORD_PLACEHOLDER} placeholder`);
  const hash = createHash('sha256').update(options.password).digest('hex');
  const rendered = text
    .replaceAll(PASSWORD_PLACEHOLDER, hash)
    .replace(DATABASE_IN_FILES, `ON ${options.database}.`);
  return splitStatements(rendered);
}

function invalid(message: string): TributaryError {
  return new TributaryError('TRIBUTARY_CLICKHOUSE_SETUP_FAILED', message);
}
