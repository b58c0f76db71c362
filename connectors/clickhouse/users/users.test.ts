// The users' SQL as compose's setup runs it: the database and the password hash put in, and every
// statement accepted by ClickHouse's own parser (chdb's EXPLAIN AST; creating users needs a server).
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session } from 'chdb';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_USERS, userStatements } from './users.ts';
import type { ServerUserRole } from './users.ts';

const session = new Session(mkdtempSync(join(tmpdir(), 'tributary-users-')));
afterAll(() => session.cleanup());
const roles = Object.keys(SERVER_USERS) as ServerUserRole[];

describe('userStatements', () => {
  it.each(roles)('%s: names the database, hashes the password, and parses', (role) => {
    const statements = userStatements(role, { database: 'analytics', password: 's3cret' });
    const hash = createHash('sha256').update('s3cret').digest('hex');
    expect(statements[0]).toContain(`CREATE USER IF NOT EXISTS ${SERVER_USERS[role].user}`);
    expect(statements[0]).toContain(`'${hash}'`);
    expect(statements.join('\n')).not.toMatch(/REPLACE_WITH|s3cret|\btributary\./);
    for (const statement of statements.slice(1)) expect(statement).toMatch(/^GRANT .* ON analytics\./s);
    for (const statement of statements)
      expect(() => session.query(`EXPLAIN AST ${statement}`, 'CSV')).not.toThrow();
  });

  it('lets the dashboard user only read, keeping the setting clickhouse-go sends changeable', () => {
    const [create = '', ...grants] = userStatements('dashboard', { database: 'tributary', password: 'x' });
    expect(create).toMatch(/readonly = 1, max_execution_time CHANGEABLE_IN_READONLY/);
    for (const grant of grants) expect(grant).toMatch(/^GRANT SELECT ON /);
  });

  it('refuses an empty password and a database name that is not an identifier', () => {
    expect(() => userStatements('sink', { database: 'tributary', password: '' })).toThrow(/empty/);
    expect(() => userStatements('sink', { database: 'x; DROP', password: 'p' })).toThrow(/identifier/);
  });
});
