import { readPartitionsToEnd } from './runtime/kafka/partition-reader.ts';
const [brokers, topic, n] = process.argv.slice(2);
const parts = [...Array(Number(n)).keys()];
const last = new Map<number, string>(); const counts = new Map<number, number>(); const nonNull = new Map<number, number>();
await readPartitionsToEnd({ brokers, topic, partitions: parts }, (m) => {
  const h = String((m.headers ?? [])[0]?.['tributary-wm'] ?? '');
  last.set(m.partition, h); counts.set(m.partition, (counts.get(m.partition) ?? 0) + 1);
  if (!h.startsWith(';')) nonNull.set(m.partition, (nonNull.get(m.partition) ?? 0) + 1);
});
console.log([...last].map(([p, h]) => `${p}: n=${counts.get(p)} nonNull=${nonNull.get(p) ?? 0} last=${h}`).join('\n'));
