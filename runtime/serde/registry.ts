// The seam between the serde and a schema registry. Serialisers and `registerSchemas` depend on this
// interface only; `HttpSchemaRegistry` talks to a real registry over the Confluent REST API and
// `InMemorySchemaRegistry` (runtime/testing) keeps the same contract and error codes for unit tests.
//
// Error contract, shared by every implementation:
// - `TRIBUTARY_REGISTRY_UNAVAILABLE` (retryable): network failure, timeout, 5xx, 408 or 429.
// - `TRIBUTARY_REGISTRY_REQUEST_FAILED`: any other refusal; context carries `status`, `errorCode`
//   (the body's `error_code`) and the registry's `message`. A 409 from `register` is the registry
//   refusing an incompatible schema.
// - `TRIBUTARY_SCHEMA_INVALID`: the registry cannot parse the schema (422, error_code 42201).
// - `TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID` from `getSchemaById`: no schema has that id (error_code 40403).

export const COMPATIBILITY_LEVELS = [
  'NONE',
  'BACKWARD',
  'BACKWARD_TRANSITIVE',
  'FORWARD',
  'FORWARD_TRANSITIVE',
  'FULL',
  'FULL_TRANSITIVE',
] as const;

export type CompatibilityLevel = (typeof COMPATIBILITY_LEVELS)[number];

/** One version of a subject, as the registry stores it. */
export interface SubjectVersion {
  subject: string;
  version: number;
  /** The schema id: what the wire format carries. The same schema under two subjects has one id. */
  id: number;
  /** The schema JSON as the registry returns it (the registry may have normalised it). */
  schema: string;
}

export interface CompatibilityResult {
  compatible: boolean;
  /** The registry's explanation; empty when it gives none (Apicurio never does). */
  messages: string[];
}

export interface DeleteSubjectOptions {
  /** Hard-delete after the soft delete, freeing the subject name entirely. Default false. */
  permanent?: boolean;
}

export interface SchemaRegistry {
  /** The schema JSON with this id. Unknown id → SerdeError TRIBUTARY_SERDE_UNKNOWN_SCHEMA_ID. */
  getSchemaById(id: number): Promise<string>;
  /** Registers the schema under the subject (a no-op returning the existing id if already there). */
  register(subject: string, schemaJson: string): Promise<{ id: number }>;
  /** The subject's version holding this schema, without registering; undefined if none does. */
  lookup(subject: string, schemaJson: string): Promise<SubjectVersion | undefined>;
  /** The subject's versions, ascending; [] if the subject does not exist. */
  listVersions(subject: string): Promise<number[]>;
  getVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion>;
  setCompatibility(subject: string, level: CompatibilityLevel): Promise<void>;
  /**
   * Whether `schemaJson` may be registered next to that one version, per the subject's compatibility
   * level (a subject that does not exist yet accepts anything).
   */
  testCompatibility(
    subject: string,
    schemaJson: string,
    version: number | 'latest',
  ): Promise<CompatibilityResult>;
  /** Deletes every version of the subject; returns the versions deleted ([] if none existed). */
  deleteSubject(subject: string, options?: DeleteSubjectOptions): Promise<number[]>;
}

/** Subject for a topic's record values under the TopicNameStrategy: `<topic>-value`. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}
