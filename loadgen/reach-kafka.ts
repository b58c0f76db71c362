// The first contact with the cluster, with a plain message when it is not there.
import { TributaryError, describeError } from '../runtime/errors.ts';

export async function reachKafka<T>(brokers: string, what: string, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (error) {
    if (error instanceof TributaryError) throw error;
    throw new TributaryError(
      'TRIBUTARY_KAFKA_TRANSIENT',
      `cannot ${what} on Kafka at ${brokers}: ${describeError(error)} (is the stack up? \`tributary stack up\`, or pass --brokers)`,
      { cause: error },
    );
  }
}
