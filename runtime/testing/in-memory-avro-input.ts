// Lets a harness test give an Avro input as a plain record: it is encoded in the Confluent wire format
// under the input's schema, registered in the harness's registry, as a real producer would write it.
import type { AnyProcessorDefinition, ValueCodec } from '../app/index.ts';
import { TributaryError } from '../errors.ts';
import { AvroEncoder, SCHEMAS_DIR, loadSchemas, registerSchemas, valueSubject } from '../serde/index.ts';
import type { SchemaRegistry } from '../serde/index.ts';

export type InputValue = Buffer | string | null | Record<string, unknown>;

/** Turns an input value into the bytes the loop would consume; records need an Avro input. */
export async function inputEncoder(
  definition: AnyProcessorDefinition,
  registry: SchemaRegistry,
  inputTopic: string,
): Promise<(value: InputValue) => Buffer | null> {
  const codec = definition.input.value as ValueCodec<unknown>;
  const schema = codec.kind === 'avro' ? loadSchemas(SCHEMAS_DIR).get(codec.schema) : undefined;
  let encoder: AvroEncoder<unknown> | undefined;
  if (schema !== undefined) {
    const subject = valueSubject(inputTopic);
    const ids = await registerSchemas(registry, [{ subject, schema }]);
    encoder = new AvroEncoder<unknown>(ids.get(subject) ?? 0, schema.type);
  }
  return (value) => {
    if (value === null) return null;
    if (typeof value === 'string' || Buffer.isBuffer(value)) return Buffer.from(value);
    if (encoder === undefined) {
      throw new TributaryError(
        'TRIBUTARY_SERDE_ENCODE_FAILED',
        `${definition.name}'s input is not Avro: give its values as bytes`,
      );
    }
    return encoder.encode(value);
  };
}
