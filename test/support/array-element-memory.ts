// Run as `node --expose-gc --import tsx test/support/array-element-memory.ts MiB [SHAPE]`: reads a body
// with MiB mebibytes in one place (SHAPE below) through readStoryRecords, in 64 KiB chunks made from one
// reused buffer (the input itself costs nothing), and prints the peak RSS increase and what was read as JSON.
import { readStoryRecords } from '../../src/stories/story-stream.ts';

const mebibytes = Number(process.argv[2] ?? 24);
// 'element': `[small, {"title":"aaa…"}, small]`; 'blank': blank lines, then a small array; 'line': one
// object on one line, `{"title":"aaa…"}`, with no newline.
const shape = process.argv[3] ?? 'element';
const CHUNK = 64 * 1024;
const filler = new Uint8Array(CHUNK).fill(shape === 'blank' ? 0x0a : 0x61); // '\n' or 'a'
const [head, tail] = {
  element: ['[{"id":"before"},\n{"id":"big","title":"', '"},\n{"id":"after"}]'],
  blank: ['', '[{"id":"after"}]'],
  line: ['{"id":"big","title":"', '"}'],
}[shape] ?? ['', ''];

async function* body(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(head);
  for (let sent = 0; sent < mebibytes * 1024 * 1024; sent += CHUNK) yield filler;
  yield new TextEncoder().encode(tail);
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
