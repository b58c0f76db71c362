export { EventTime } from './event-time.ts';
export type { EventTimeRules, ProgressStore } from './event-time.ts';
export { PartitionProgress } from './partition-progress.ts';
export type { ProgressSnapshot } from './partition-progress.ts';
export {
  WATERMARK_HEADER,
  decodeWatermarkHeader,
  encodeWatermarkHeader,
  findWatermarkHeader,
} from './watermark-header.ts';
export type { WatermarkHeader } from './watermark-header.ts';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  WATERMARKS_STORE,
  createEventTime,
  declaredStores,
  eventTimeRules,
  registerTimeMetrics,
} from './processor-time.ts';
export type { ProcessorTimeOptions, TimeMetrics } from './processor-time.ts';
