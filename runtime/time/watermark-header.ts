// The `tributary-wm` record header: how far in event time the input partition a record came from had
// progressed when the record was written. Short ASCII, `<progressMs>;<partition>;<partitions>;<topic>`,
// e.g. `1764638400000;3;8;requests.valid` (about 35 bytes); an empty progress means "not known yet"
// (the source exists and holds the minimum). Only the runtime reads or writes it.
import { TributaryError } from '../errors.ts';

export const WATERMARK_HEADER = 'tributary-wm';

export interface WatermarkHeader {
  /** The writer's input topic (physical name) and partition: the upstream source's identity. */
  topic: string;
  partition: number;
  /** Partitions of the writer's input topic: how many sources the reader waits for. */
  partitions: number;
  /** Event-time progress of that source partition (ms); -Infinity when not known yet. */
  progressMs: number;
}

export function encodeWatermarkHeader(header: WatermarkHeader): Buffer {
  const progress = Number.isFinite(header.progressMs) ? String(Math.floor(header.progressMs)) : '';
  return Buffer.from(`${progress};${header.partition};${header.partitions};${header.topic}`, 'latin1');
}

/** Throws TRIBUTARY_TIME_BAD_HEADER for a header no Tributary writer produced. */
export function decodeWatermarkHeader(value: Buffer | string): WatermarkHeader {
  const text = typeof value === 'string' ? value : value.toString('latin1');
  const first = text.indexOf(';');
  const second = text.indexOf(';', first + 1);
  const third = text.indexOf(';', second + 1);
  const progress = text.slice(0, first);
  const partition = Number(text.slice(first + 1, second));
  const partitions = Number(text.slice(second + 1, third));
  const topic = text.slice(third + 1);
  const progressMs = progress === '' ? Number.NEGATIVE_INFINITY : Number(progress);
  if (
    first < 0 ||
    second < 0 ||
    third < 0 ||
    topic === '' ||
    !Number.isInteger(partition) ||
    !Number.isInteger(partitions) ||
    partition < 0 ||
    partition >= partitions ||
    Number.isNaN(progressMs)
  ) {
    throw new TributaryError('TRIBUTARY_TIME_BAD_HEADER', `unreadable ${WATERMARK_HEADER} header "${text}"`, {
      retryable: false,
      context: { header: text.slice(0, 200) },
    });
  }
  return { topic, partition, partitions, progressMs };
}

/** The `tributary-wm` value among a consumed record's headers, if any. */
export function findWatermarkHeader(
  headers: ReadonlyArray<Record<string, string | Buffer>> | undefined,
): Buffer | string | undefined {
  if (headers === undefined) return undefined;
  for (const header of headers) {
    const value = header[WATERMARK_HEADER];
    if (value !== undefined) return value;
  }
  return undefined;
}
