// The binding's error class (not re-exported by its index): used to recover error-event codes.
declare module '@confluentinc/kafka-javascript/lib/error.js' {
  interface BindingError {
    message: string;
    code: number;
  }
  const LibrdKafkaError: { create(from: number | Error): BindingError };
  export default LibrdKafkaError;
}
