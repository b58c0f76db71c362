// A SchemaRegistry test double with the real contract: the same error codes as HttpSchemaRegistry,
// Confluent id semantics (one id per distinct schema across subjects), compatibility levels enforced
// on register with avsc resolvers (the same rule registerSchemas checks locally).
import avro from 'avsc';
import type { Type } from 'avsc';
import { SerdeError, TributaryError, describeError } from '../errors.ts';
import { canonicalSchemaJson } from '../serde/schema-loader.ts';
import { findProblems, formatProblems } from '../serde/compatibility.ts';
import type {
  CompatibilityLevel,
  CompatibilityResult,
  DeleteSubjectOptions,
  SchemaRegistry,
  SubjectVersion,
} from '../serde/registry.ts';

type Method = keyof SchemaRegistry;

interface StoredSchema {
  id: number;
  json: string;
  type: Type;
}

export interface InMemorySchemaRegistryOptions {
  /** Level of subjects without their own. Default BACKWARD (Confluent's and our Apicurio's). */
  defaultCompatibility?: CompatibilityLevel;
}

export class InMemorySchemaRegistry implements SchemaRegistry {
  /** While true every call throws TRIBUTARY_REGISTRY_UNAVAILABLE, as a registry that is down. */
  unavailable = false;
  private readonly schemasById = new Map<number, StoredSchema>();
  private readonly idByJson = new Map<string, number>();
  private readonly subjects = new Map<string, number[]>(); // subject → schema id per version (index + 1)
  private readonly levels = new Map<string, CompatibilityLevel>();
  private readonly calls = new Map<Method, number>();
  private readonly defaultCompatibility: CompatibilityLevel;

  constructor(options: InMemorySchemaRegistryOptions = {}) {
    this.defaultCompatibility = options.defaultCompatibility ?? 'BACKWARD';
  }

  /** How many times a method was called (including calls that threw). */
  callCount(method: Method): number {
    return this.calls.get(method) ?? 0;
  }

  getSchemaById(id: number): Promise<string> {
    return this.call('getSchemaById', () => {
      const stored = this.schemasById.get(id);
      if (stored === undefined) {
        throw new SerdeError('TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID', `schema id ${id} is not in the registry`, {
          context: { schemaId: id, url: 'memory:' },
        });
      }
      return stored.json;
    });
  }

  register(subject: string, schemaJson: string): Promise<{ id: number }> {
    return this.call('register', () => {
      const schema = this.intern(schemaJson);
      const versions = this.subjects.get(subject) ?? [];
      if (versions.includes(schema.id)) return { id: schema.id };
      const problems = this.violations(subject, schema.type, versions);
      if (problems.length > 0) {
        throw refused(
          409,
          409,
          `Schema being registered is incompatible with an earlier schema for subject "${subject}": ${problems.join('; ')}`,
        );
      }
      this.schemasById.set(schema.id, schema);
      this.idByJson.set(schema.json, schema.id);
      this.subjects.set(subject, [...versions, schema.id]);
      return { id: schema.id };
    });
  }

  lookup(subject: string, schemaJson: string): Promise<SubjectVersion | undefined> {
    return this.call('lookup', () => {
      const json = this.normalise(schemaJson);
      const ids = this.subjects.get(subject) ?? [];
      const index = ids.findIndex((id) => this.schemasById.get(id)?.json === json);
      return index < 0 ? undefined : this.version(subject, index + 1);
    });
  }

  listVersions(subject: string): Promise<number[]> {
    return this.call('listVersions', () => (this.subjects.get(subject) ?? []).map((_, i) => i + 1));
  }

  getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion> {
    return this.call('getVersion', () => this.version(subject, version));
  }

  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void> {
    return this.call('setCompatibility', () => {
      this.levels.set(subject, level);
    });
  }

  testCompatibility(
    subject: string,
    schemaJson: string,
    version: number | 'latest',
  ): Promise<CompatibilityResult> {
    return this.call('testCompatibility', () => {
      const candidate = this.intern(schemaJson);
      if (!this.subjects.has(subject)) return { compatible: true, messages: [] };
      const old = this.version(subject, version);
      const messages = this.check(this.levelOf(subject), candidate.type, old);
      return { compatible: messages.length === 0, messages };
    });
  }

  deleteSubject(subject: string, _options: DeleteSubjectOptions = {}): Promise<number[]> {
    return this.call('deleteSubject', () => {
      const versions = (this.subjects.get(subject) ?? []).map((_, i) => i + 1);
      this.subjects.delete(subject);
      this.levels.delete(subject);
      return versions;
    });
  }

  private async call<R>(method: Method, body: () => R): Promise<R> {
    this.calls.set(method, this.callCount(method) + 1);
    await Promise.resolve(); // answer asynchronously, like a real registry
    if (this.unavailable) {
      throw new TributaryError(
        'TRIBUTARY_REGISTRY_UNAVAILABLE',
        `schema registry memory: is unavailable (${method})`,
        {
          context: { url: 'memory:', method },
        },
      );
    }
    return body();
  }

  private normalise(schemaJson: string): string {
    try {
      return canonicalSchemaJson(JSON.parse(schemaJson));
    } catch (error) {
      throw invalidSchema(error);
    }
  }

  /** The stored schema with this content, or a new one with the next id (not stored yet). */
  private intern(schemaJson: string): StoredSchema {
    const json = this.normalise(schemaJson);
    const id = this.idByJson.get(json);
    const known = id === undefined ? undefined : this.schemasById.get(id);
    if (known !== undefined) return known;
    try {
      return {
        id: this.schemasById.size + 1,
        json,
        type: avro.Type.forSchema(JSON.parse(json) as avro.Schema),
      };
    } catch (error) {
      throw invalidSchema(error);
    }
  }

  private version(subject: string, version: number | 'latest'): SubjectVersion {
    const ids = this.subjects.get(subject);
    if (ids === undefined) throw refused(404, 40401, `Subject '${subject}' not found.`);
    const number = version === 'latest' ? ids.length : version;
    const id = ids[number - 1];
    const stored = id === undefined ? undefined : this.schemasById.get(id);
    if (stored === undefined) throw refused(404, 40402, `Version ${version} not found.`);
    return { subject, version: number, id: stored.id, schema: stored.json };
  }

  private levelOf(subject: string): CompatibilityLevel {
    return this.levels.get(subject) ?? this.defaultCompatibility;
  }

  /** Problems of registering `candidate` after `ids`, per the subject's level. */
  private violations(subject: string, candidate: Type, ids: readonly number[]): string[] {
    const level = this.levelOf(subject);
    if (level === 'NONE' || ids.length === 0) return [];
    const against = level.endsWith('_TRANSITIVE') ? ids.map((_, i) => i + 1) : [ids.length];
    return against.flatMap((version) => this.check(level, candidate, this.version(subject, version)));
  }

  private check(level: CompatibilityLevel, candidate: Type, old: SubjectVersion): string[] {
    if (level === 'NONE') return [];
    const oldType = this.schemasById.get(old.id)?.type;
    if (oldType === undefined) return [];
    const perVersion = [];
    if (!level.startsWith('FORWARD'))
      perVersion.push({ version: old.version, problems: findProblems(candidate, oldType) });
    if (!level.startsWith('BACKWARD'))
      perVersion.push({ version: old.version, problems: findProblems(oldType, candidate) });
    return formatProblems(perVersion);
  }
}

function refused(status: number, errorCode: number, message: string): TributaryError {
  return new TributaryError(
    'TRIBUTARY_REGISTRY_REQUEST_FAILED',
    `schema registry memory: refused: ${status}/${errorCode} ${message}`,
    {
      context: { url: 'memory:', status, errorCode, message },
    },
  );
}

function invalidSchema(error: unknown): TributaryError {
  const message = `Invalid schema: ${describeError(error)}`;
  return new TributaryError(
    'TRIBUTARY_SCHEMA_INVALID',
    `schema registry memory: refused: 422/42201 ${message}`,
    {
      context: { url: 'memory:', status: 422, errorCode: 42201, message },
    },
  );
}
