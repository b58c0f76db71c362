// Copies every record of its input to its output unchanged: the runtime's exactly-once loop with no
// business logic, used to prove the guarantees and as the throughput baseline in benchmarks.
import { bytes, defineProcessor } from '../../runtime/index.ts';

export const passthrough = defineProcessor({
  name: 'passthrough',
  description: 'copies passthrough.in to passthrough.out, key and value unchanged',
  input: { topic: 'passthrough.in', value: bytes() },
  outputs: { copied: { topic: 'passthrough.out', value: bytes() } },
  config: {},
  handle(record, ctx) {
    ctx.emit('copied', record.key, record.value, { timestamp: record.timestamp });
  },
});
