// Registry access and Avro encode/decode in the Confluent wire format.
export { COMPATIBILITY_LEVELS, valueSubject } from './registry.ts';
export type {
  CompatibilityLevel,
  CompatibilityResult,
  DeleteSubjectOptions,
  SchemaRegistry,
  SubjectVersion,
} from './registry.ts';
export { HttpSchemaRegistry } from './http-schema-registry.ts';
export { fetchTrusting, registryFromConfig } from './registry-from-config.ts';
export type { RegistrySettings } from './registry-from-config.ts';
export { HTTP_SCHEMA_REGISTRY_DEFAULTS, REGISTRY_CONTENT_TYPE } from './http-schema-registry-options.ts';
export type { HttpSchemaRegistryOptions } from './http-schema-registry-options.ts';
export {
  SCHEMAS_DIR,
  SCHEMA_NAMESPACE,
  canonicalSchemaJson,
  loadSchemas,
  parseSchema,
} from './schema-loader.ts';
export type { LoadedSchema } from './schema-loader.ts';
export { canRead, describeType, findProblems, formatProblems } from './compatibility.ts';
export type { CompatibilityProblem } from './compatibility.ts';
export { REQUIRED_COMPATIBILITY, registerSchemas, registeredEncoders } from './register-schemas.ts';
export type { SchemaBinding, SerdeLogger } from './register-schemas.ts';
export { HEADER_LENGTH, MAGIC_BYTE, peekSchemaId, readSchemaId, writeHeader } from './wire-format.ts';
export { AvroEncoder } from './avro-encoder.ts';
export { AVRO_DECODER_DEFAULTS, AvroDecoder } from './avro-decoder.ts';
export type { AvroDecoderOptions } from './avro-decoder.ts';
export { checkAgainstVersions, checkSchemas } from './check-schemas.ts';
export type { SubjectCheck, SubjectVerdict } from './check-schemas.ts';
