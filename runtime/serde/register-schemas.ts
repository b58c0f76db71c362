// Registers the schemas a process writes, refusing any change that would break readers of older data.
// The rule is BACKWARD_TRANSITIVE: the new schema must read every version already under the subject.
// Both the registry's own check and a local avsc check run; the local one names the offending field.
import avro from 'avsc';
import type { Type } from 'avsc';
import { SchemaIncompatibleError, TributaryError, describeError } from '../errors.ts';
import type { CompatibilityProblem } from './compatibility.ts';
import { findProblems, formatProblems } from './compatibility.ts';
import type { SchemaRegistry } from './registry.ts';
import type { LoadedSchema } from './schema-loader.ts';

export const REQUIRED_COMPATIBILITY = 'BACKWARD_TRANSITIVE';

export interface SchemaBinding {
  /** Usually `valueSubject(topic)`. */
  subject: string;
  schema: LoadedSchema;
}

/** The slice of a pino logger this module uses. */
export interface SerdeLogger {
  info(obj: Record<string, unknown>, msg: string): void;
}

/**
 * Makes sure each subject has its schema registered; returns subject → schema id. An identical schema
 * already registered is reused as is. Otherwise the subject is set to BACKWARD_TRANSITIVE, the schema is
 * checked against all existing versions, and registered. Throws SchemaIncompatibleError naming the
 * subject, the versions it breaks and the fields; registry failures pass through (UNAVAILABLE is
 * retryable).
 */
export async function registerSchemas(
  registry: SchemaRegistry,
  bindings: ReadonlyArray<SchemaBinding>,
  log?: SerdeLogger,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const binding of uniqueBindings(bindings)) {
    ids.set(binding.subject, await registerOne(registry, binding, log));
  }
  return ids;
}

async function registerOne(
  registry: SchemaRegistry,
  binding: SchemaBinding,
  log?: SerdeLogger,
): Promise<number> {
  const { subject, schema } = binding;
  const existing = await registry.lookup(subject, schema.json);
  if (existing !== undefined) {
    log?.info({ subject, schemaId: existing.id, version: existing.version }, 'schema already registered');
    return existing.id;
  }
  await registry.setCompatibility(subject, REQUIRED_COMPATIBILITY);
  const versions = await registry.listVersions(subject);
  const checks = await Promise.all(versions.map((version) => checkVersion(registry, binding, version)));
  const failed = checks.filter((check) => !check.compatible);
  if (failed.length > 0) {
    throw new SchemaIncompatibleError(
      subject,
      failed.map((check) => check.version),
      problemSentences(failed),
    );
  }
  let id: number;
  try {
    ({ id } = await registry.register(subject, schema.json));
  } catch (error) {
    // The registry refused what both checks accepted (a concurrent registration, or a stricter rule).
    if (error instanceof TributaryError && error.context['status'] === 409) {
      throw new SchemaIncompatibleError(subject, versions, [
        `the registry refused it: ${describeError(error)}`,
      ]);
    }
    throw error;
  }
  log?.info({ subject, schemaId: id, checkedVersions: versions }, 'schema registered');
  return id;
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

function uniqueBindings(bindings: ReadonlyArray<SchemaBinding>): SchemaBinding[] {
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
