export { defineProcessor, bytes, avro } from './processor/definition.ts';
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
} from './processor/definition.ts';
export { checkDefinition, declaredOutcomes, openResources } from './processor/definition-checks.ts';
export {
  processBatch,
  fitDeadLetter,
  DEAD_LETTER_OUTPUT,
  UNDECODABLE_REASON,
  OUTPUT_TOO_LARGE_REASON,
} from './processor/batch.ts';
export type { RawRecord, DeadLetterValue, BatchResult, BatchCodecs } from './processor/batch.ts';
export { buildCodecs } from './processor/codecs.ts';
export { tryClaim, claimOwner } from './host/exclusive-claim.ts';
export type { Claim, ClaimContent, ClaimResult } from './host/exclusive-claim.ts';
export { topicResolver, changelogTopicFor } from './processor/processor-topics.ts';
export {
  runProcessor,
  loadProcessorConfig,
  EXIT_OK,
  EXIT_FAILED,
  EXIT_BAD_CONFIG,
  EXIT_FENCED,
} from './processor/run-processor.ts';
export { defineSink, sinkConfigShape } from './sink/sink-definition.ts';
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
} from './sink/sink-definition.ts';
export { runSink, loadSinkConfig, boundTopics } from './sink/run-sink.ts';
export { dedupToken, PendingBatch } from './sink/sink-batch.ts';
export { REJECTED_BY_STORE_REASON } from './sink/sink-flush.ts';
export type { LedgerEntry, StoredPartition } from './sink/sink-resume.ts';
