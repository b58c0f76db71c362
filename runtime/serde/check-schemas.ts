// Checks schemas against what a registry holds, without changing it: the check a deploy runs first
// (`./tributary schemas check`) and the one `registerSchemas` runs before registering. The rule is
// BACKWARD_TRANSITIVE: the new schema must read every version under the subject. Both the registry's
// own test and the local avsc check run; the local one names the offending field.
import avro from 'avsc';
import type { Type } from 'avsc';
import { TributaryError, describeError } from '../errors.ts';
import type { CompatibilityProblem } from './compatibility.ts';
import { findProblems, formatProblems } from './compatibility.ts';
import type { SchemaRegistry } from './registry.ts';
import type { SchemaBinding } from './register-schemas.ts';

/** What a subject makes of a schema: `new` (no such subject), `registered` (this very schema is there). */
export type SubjectVerdict = 'new' | 'registered' | 'compatible' | 'incompatible';

export interface SubjectCheck {
  subject: string;
  /** Namespace-qualified record name of the schema checked. */
  record: string;
  verdict: SubjectVerdict;
  /** The subject's latest version; undefined for a new subject. */
  latestVersion: number | undefined;
  /** The version already holding this schema, for `registered`. */
  registeredVersion?: number;
  /** Versions the schema cannot read, for `incompatible`. */
  incompatibleVersions: number[];
  /** One sentence per offending field, e.g. `field "region" was added without a default (…)`. */
  problems: string[];
}

/** Checks each binding against its subject, in the order given (one subject once); read-only. */
export async function checkSchemas(
  registry: SchemaRegistry,
  bindings: ReadonlyArray<SchemaBinding>,
): Promise<SubjectCheck[]> {
  const checks: SubjectCheck[] = [];
  for (const binding of uniqueBindings(bindings)) checks.push(await checkOne(registry, binding));
  return checks;
}

async function checkOne(registry: SchemaRegistry, binding: SchemaBinding): Promise<SubjectCheck> {
  const { subject, schema } = binding;
  const versions = await registry.listVersions(subject);
  const base = { subject, record: schema.fullName, latestVersion: versions.at(-1) };
  if (versions.length === 0) return { ...base, verdict: 'new', incompatibleVersions: [], problems: [] };
  const existing = await registry.lookup(subject, schema.json);
  if (existing !== undefined) {
    return {
      ...base,
      verdict: 'registered',
      registeredVersion: existing.version,
      incompatibleVersions: [],
      problems: [],
    };
  }
  const { failedVersions, problems } = await checkAgainstVersions(registry, binding, versions);
  const verdict = failedVersions.length > 0 ? 'incompatible' : 'compatible';
  return { ...base, verdict, incompatibleVersions: failedVersions, problems };
}

/** Whether the binding's schema reads each of these versions of its subject, and why not. */
export async function checkAgainstVersions(
  registry: SchemaRegistry,
  binding: SchemaBinding,
  versions: readonly number[],
): Promise<{ failedVersions: number[]; problems: string[] }> {
  const checks = await Promise.all(versions.map((version) => checkVersion(registry, binding, version)));
  const failed = checks.filter((check) => !check.compatible);
  return { failedVersions: failed.map((check) => check.version), problems: problemSentences(failed) };
}

interface VersionCheck {
  version: number;
  compatible: boolean;
  problems: CompatibilityProblem[];
  registryMessages: string[];
}

async function checkVersion(
  registry: SchemaRegistry,
  binding: SchemaBinding,
  version: number,
): Promise<VersionCheck> {
  const { subject, schema } = binding;
  const [old, verdict] = await Promise.all([
    registry.getVersion(subject, version),
    registry.testCompatibility(subject, schema.json, version),
  ]);
  const problems = localProblems(schema.type, old.schema);
  return {
    version,
    compatible: verdict.compatible && problems.length === 0,
    problems,
    registryMessages: verdict.messages,
  };
}

function localProblems(reader: Type, writerJson: string): CompatibilityProblem[] {
  let writer: Type;
  try {
    writer = avro.Type.forSchema(JSON.parse(writerJson) as avro.Schema);
  } catch (error) {
    return [
      { kind: 'other', path: '', detail: `the registered schema does not parse: ${describeError(error)}` },
    ];
  }
  return findProblems(reader, writer);
}

function problemSentences(failed: readonly VersionCheck[]): string[] {
  const sentences = formatProblems(failed);
  for (const check of failed) {
    if (check.problems.length > 0) continue;
    // Only the registry objects: pass on what it says (Apicurio says nothing more than "incompatible").
    const detail = check.registryMessages.length > 0 ? check.registryMessages.join('; ') : 'no detail given';
    sentences.push(`the registry reports version ${check.version} incompatible (${detail})`);
  }
  return sentences;
}

/** One binding per subject; a subject bound to two different schemas is a declaration mistake. */
export function uniqueBindings(bindings: ReadonlyArray<SchemaBinding>): SchemaBinding[] {
  const bySubject = new Map<string, SchemaBinding>();
  for (const binding of bindings) {
    const previous = bySubject.get(binding.subject);
    if (previous !== undefined && previous.schema.json !== binding.schema.json) {
      throw new TributaryError(
        'TRIBUTARY_SCHEMA_INVALID',
        `subject "${binding.subject}" is bound to two different schemas: ${previous.schema.fullName} and ${binding.schema.fullName}`,
        { context: { subject: binding.subject } },
      );
    }
    bySubject.set(binding.subject, binding);
  }
  return [...bySubject.values()];
}
