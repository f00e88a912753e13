// Run as `node --expose-gc --import tsx test/support/array-element-memory.ts MiB`: reads a JSON array whose
// second element is MiB mebibytes long through readStoryRecords, in 64 KiB chunks made from one reused
// buffer (the input itself costs nothing), and prints the peak RSS increase and what was read as JSON.
import { readStoryRecords } from '../../src/stories/story-stream.ts';

const mebibytes = Number(process.argv[2] ?? 24);
const CHUNK = 64 * 1024;
const filler = new Uint8Array(CHUNK).fill(0x61); // 'a'

async function* body(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('[{"id":"before"},\n{"id":"big","title":"');
  for (let sent = 0; sent < mebibytes * 1024 * 1024; sent += CHUNK) yield filler;
  yield new TextEncoder().encode('"},\n{"id":"after"}]');
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
gc();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 1);
const entries: unknown[] = [];
for await (const entry of readStoryRecords(body())) {
  peak = Math.max(peak, process.memoryUsage().rss);
  entries.push(entry);
}
clearInterval(sample);
peak = Math.max(peak, process.memoryUsage().rss);
process.stdout.write(`${JSON.stringify({ peakIncreaseBytes: peak - baseline, entries })}\n`);
