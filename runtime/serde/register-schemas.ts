// Registers the schemas a process writes, refusing any change that would break readers of older data.
// The rule is BACKWARD_TRANSITIVE: the new schema must read every version already under the subject.
// The check itself (registry and local avsc, naming the field) is check-schemas.ts.
import { SchemaIncompatibleError, TributaryError, describeError } from '../errors.ts';
import { checkAgainstVersions, uniqueBindings } from './check-schemas.ts';
import { AvroEncoder } from './avro-encoder.ts';
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
  const { failedVersions, problems } = await checkAgainstVersions(registry, binding, versions);
  if (failedVersions.length > 0) throw new SchemaIncompatibleError(subject, failedVersions, problems);
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

/** Registers the bindings (`registerSchemas`) and returns an encoder per subject, with the id it was given. */
export async function registeredEncoders<T = unknown>(
  registry: SchemaRegistry,
  bindings: ReadonlyArray<SchemaBinding>,
  log?: SerdeLogger,
): Promise<Map<string, AvroEncoder<T>>> {
  const ids = await registerSchemas(registry, bindings, log);
  const encoders = new Map<string, AvroEncoder<T>>();
  for (const { subject, schema } of bindings) {
    const id = ids.get(subject);
    if (id === undefined)
      throw new TributaryError('TRIBUTARY_SCHEMA_NOT_REGISTERED', `subject ${subject} was not registered`);
    encoders.set(subject, new AvroEncoder<T>(id, schema.type));
  }
  return encoders;
}
