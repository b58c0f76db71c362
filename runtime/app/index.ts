export { defineProcessor, bytes, avro } from './definition.ts';
export type {
  AnyProcessorDefinition,
  ProcessorDefinition,
  ProcessorContext,
  ProcessorConfig,
  InputRecord,
  TopicDeclaration,
  ValueCodec,
  ValueOf,
  EmitOptions,
  OutcomesSpec,
  CountOutcome,
  OutputsOf,
  TablesOf,
  TableDeclaration,
  TableView,
  EventTimeDeclaration,
} from './definition.ts';
export { checkDefinition, declaredOutcomes, openResources } from './definition-checks.ts';
export {
  processBatch,
  fitDeadLetter,
  DEAD_LETTER_OUTPUT,
  UNDECODABLE_REASON,
  OUTPUT_TOO_LARGE_REASON,
} from './batch.ts';
export type { RawRecord, DeadLetterValue, BatchResult, BatchCodecs } from './batch.ts';
export { buildCodecs } from './codecs.ts';
export { tryClaim, claimOwner } from './exclusive-claim.ts';
export type { Claim, ClaimContent, ClaimResult } from './exclusive-claim.ts';
export { topicResolver, changelogTopicFor } from './processor-topics.ts';
export {
  runProcessor,
  loadProcessorConfig,
  EXIT_OK,
  EXIT_FAILED,
  EXIT_BAD_CONFIG,
  EXIT_FENCED,
} from './run-processor.ts';
export { defineSink, sinkConfigShape } from './sink-definition.ts';
export type {
  AnySinkDefinition,
  SinkBinding,
  SinkConfig,
  SinkConnector,
  SinkDefinition,
  SinkOpenContext,
  SinkPartition,
  SinkRecord,
  SinkRow,
  SinkWriteRequest,
} from './sink-definition.ts';
export { runSink, loadSinkConfig, boundTopics } from './run-sink.ts';
export { dedupToken, PendingBatch } from './sink-batch.ts';
export { REJECTED_BY_STORE_REASON } from './sink-flush.ts';
export type { LedgerEntry, StoredPartition } from './sink-resume.ts';
