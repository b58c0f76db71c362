// `tributary schemas generate | check | register`: the record types generated from schemas/*.avsc; the check
// a deploy runs first (every topic's schema against the registry, BACKWARD_TRANSITIVE); and registering
// them, the deploy step for processes that may not register at run time.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Command } from '../command.ts';
import { UsageError, parseArgs } from '../command.ts';
import { processors } from '../../processors/index.ts';
import { sinks } from '../../connectors/index.ts';
import { referenceContracts } from '../../loadgen/index.ts';
import { TributaryError, loadConfig, runtimeConfigShape } from '../../runtime/index.ts';
import {
  GENERATED_RECORDS_PATH,
  mergeContracts,
  processorContracts,
  renderRecordTypes,
  sinkContracts,
} from '../../runtime/contracts/index.ts';
import type { Contract } from '../../runtime/contracts/index.ts';
import {
  SCHEMAS_DIR,
  checkSchemas,
  loadSchemas,
  registerSchemas,
  registryFromConfig,
} from '../../runtime/serde/index.ts';
import type { LoadedSchema } from '../../runtime/serde/index.ts';
import { checksSummary, checksTable } from './schemas-table.ts';
import type { CheckRow } from './schemas-table.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const KNOWN = new Set(['registry-url', 'topic-prefix', 'schemas-dir', 'help']);

const HELP = `usage: tributary schemas generate | check | register [options]

  generate   write ${GENERATED_RECORDS_PATH} (the TypeScript record types) from schemas/*.avsc
  check      compare the schema of every subject <topic>-value that a processor, a sink or \`ref load\`
             writes or reads (state store changelogs included) with the registry: it must read every
             registered version (BACKWARD_TRANSITIVE).
             Read-only. Prints a table per subject, the offending fields named; exit 1 if any is incompatible.
  register   register every one of those schemas (the same check first, refusing a breaking change): the
             deploy step when processes run with TRIBUTARY_REGISTRY_AUTO_REGISTER=false

  --registry-url URL   (default TRIBUTARY_REGISTRY_URL or http://127.0.0.1:8081/apis/ccompat/v7)
  --topic-prefix P     (default TRIBUTARY_TOPIC_PREFIX or none)
  --schemas-dir DIR    the schemas to check (default the repository's schemas/)
`;

const connectionSchema = z.object({
  registryUrl: runtimeConfigShape.registryUrl,
  topicPrefix: runtimeConfigShape.topicPrefix,
  registryUsername: runtimeConfigShape.registryUsername,
  registryPassword: runtimeConfigShape.registryPassword,
  registryCaFile: runtimeConfigShape.registryCaFile,
});

export const schemasCommand: Command = {
  name: 'schemas',
  usage: 'schemas generate | check | register [--registry-url URL] [--topic-prefix P]',
  summary: 'generate the record types from schemas/; check every topic schema against the registry',
  async run(args) {
    const { positional, options } = parseArgs(args);
    if (options.has('help')) {
      console.log(HELP);
      return 0;
    }
    const unknown = [...options.keys()].filter((key) => !KNOWN.has(key));
    if (unknown.length > 0) throw new UsageError(`unknown option --${unknown[0]}`);
    const dir = stringOption(options, 'schemas-dir');
    const schemasDir = dir === undefined ? SCHEMAS_DIR : resolve(dir);
    try {
      if (positional.length === 1 && positional[0] === 'generate') return generate(schemasDir);
      if (positional.length === 1 && positional[0] === 'check') return await check(options, schemasDir);
      if (positional.length === 1 && positional[0] === 'register') return await register(options, schemasDir);
    } catch (error) {
      // Our own errors carry a message meant for the user; anything else is a bug and keeps its stack.
      if (!(error instanceof TributaryError)) throw error;
      console.error(`schemas ${positional[0] ?? ''}: ${error.message}`);
      return 1;
    }
    throw new UsageError('the subcommands are "schemas generate", "schemas check" and "schemas register"');
  },
};

function generate(schemasDir: string): number {
  const path = resolve(REPO_ROOT, GENERATED_RECORDS_PATH);
  const schemas = loadSchemas(schemasDir);
  writeFileSync(path, renderRecordTypes(schemas));
  console.log(`wrote ${GENERATED_RECORDS_PATH}: ${[...schemas.keys()].sort().join(', ')}`);
  return 0;
}

function connectionFor(what: string, options: Map<string, string | true>) {
  const overrides: Record<string, unknown> = {};
  const registryUrl = stringOption(options, 'registry-url');
  const topicPrefix = stringOption(options, 'topic-prefix');
  if (registryUrl !== undefined) overrides['registryUrl'] = registryUrl;
  if (topicPrefix !== undefined) overrides['topicPrefix'] = topicPrefix;
  const connection = loadConfig(what, connectionSchema, { overrides });
  return { topicPrefix: connection.topicPrefix, registry: registryFromConfig(connection) };
}

/** The deploy step when processes run with TRIBUTARY_REGISTRY_AUTO_REGISTER=false. */
async function register(options: Map<string, string | true>, schemasDir: string): Promise<number> {
  const { topicPrefix, registry } = connectionFor('schemas register', options);
  const contracts = await deployContracts(topicPrefix, loadSchemas(schemasDir));
  const ids = await registerSchemas(registry, contracts);
  for (const [subject, id] of ids) console.log(`${subject}: schema id ${id}`);
  console.log(`${ids.size} subjects registered (or already there) in ${registry.baseUrl}`);
  return 0;
}

async function check(options: Map<string, string | true>, schemasDir: string): Promise<number> {
  const { topicPrefix, registry } = connectionFor('schemas check', options);
  const contracts = await deployContracts(topicPrefix, loadSchemas(schemasDir));
  const checks = await checkSchemas(registry, contracts);
  const usedBy = new Map(contracts.map((declared) => [declared.subject, declared.usedBy]));
  const rows: CheckRow[] = checks.map((result) => ({ ...result, usedBy: usedBy.get(result.subject) ?? [] }));
  console.log(checksTable(rows));
  console.log(checksSummary(rows));
  return rows.some((row) => row.verdict === 'incompatible') ? 1 : 0;
}

/** Every subject the pipeline's processes write or read, one entry per subject. */
export async function deployContracts(
  prefix: string,
  schemas: ReadonlyMap<string, LoadedSchema>,
): Promise<Contract[]> {
  const declared: Contract[] = [];
  for (const load of Object.values(processors)) {
    declared.push(...processorContracts(await load(), prefix, schemas));
  }
  for (const load of Object.values(sinks)) declared.push(...sinkContracts(await load(), prefix, schemas));
  declared.push(...referenceContracts(prefix, schemas));
  return mergeContracts(declared);
}

function stringOption(options: Map<string, string | true>, name: string): string | undefined {
  const value = options.get(name);
  if (value === true) throw new UsageError(`--${name} needs a value`);
  return value;
}
