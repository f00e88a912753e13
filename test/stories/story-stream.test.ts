import { describe, expect, it } from 'vitest';
import { InputTooLargeError, readStoryRecords } from '../../src/stories/story-stream.ts';

async function read(text: string, chunk = 7, options: Parameters<typeof readStoryRecords>[1] = {}) {
  async function* chunks() {
    const bytes = new TextEncoder().encode(text);
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.slice(i, i + chunk);
  }
  const out: unknown[] = [];
  for await (const entry of readStoryRecords(chunks(), options)) out.push(entry);
  return out;
}

describe('readStoryRecords', () => {
  it('splits a JSON array element by element across chunk boundaries, strings and nesting included', async () => {
    const items = [
      { id: 'a', title: 'commas, [brackets] and {braces}', tags: [[1, 2], { x: '"]' }] },
      { id: 'b', title: 'é ünïcödé 🚀 split across bytes' },
      'not an object',
    ];
    const text = `\uFEFF\n  ${JSON.stringify(items, null, 2)}\n`;
    // Each element starts on a line indented by two spaces (the array itself opens on line 2).
    const starts = text
      .split('\n')
      .map((line, index) => (/^ {2}[{"]/.test(line) ? index + 1 : 0))
      .filter(Boolean);
    expect(starts).toHaveLength(3);
    for (const chunk of [1, 3, 7, 1000]) {
      const records = await read(text, chunk);
      expect(records).toEqual(items.map((value, i) => ({ record: i + 1, line: starts[i], value })));
    }
  });

  it('reads a chunk far larger than it decodes at a time, multi-byte characters split between pieces', async () => {
    // 20,000 lines of 'é🚀' text in one 300 KB chunk: piece boundaries (every 32 KiB) fall inside characters.
    const lines = Array.from({ length: 20_000 }, (_, i) => ({ id: `s${i}`, t: 'é🚀'.repeat(i % 3) }));
    const text = lines.map((line) => JSON.stringify(line)).join('\n');
    const records = await read(text, 300 * 1024);
    expect(records).toHaveLength(lines.length);
    expect(records).toEqual(lines.map((value, i) => ({ record: i + 1, line: i + 1, value })));
  });

  it('reads NDJSON and a single pretty-printed object', async () => {
    expect(await read('{"id":"a"}\n\n{"id":"b"}')).toEqual([
      { record: 1, line: 1, value: { id: 'a' } },
      { record: 2, line: 3, value: { id: 'b' } },
    ]);
    expect(await read('\n{\n  "id": "a",\n  "title": "x"\n}\n')).toEqual([
      { record: 1, line: 2, value: { id: 'a', title: 'x' } },
    ]);
    expect(await read('[]')).toEqual([]);
  });

  it('reports a bad NDJSON line as its record and goes on', async () => {
    const records = await read('\n{"id":"a"}\r\n{"id": oops}\n\n{"id":"c"}\n');
    expect(records[0]).toEqual({ record: 1, line: 2, value: { id: 'a' } });
    expect(records[1]).toMatchObject({
      record: 2,
      line: 3,
      field: '(record)',
      reason: expect.stringMatching(/^invalid JSON/),
    });
    expect(records[2]).toEqual({ record: 3, line: 5, value: { id: 'c' } });
  });

  it('reports an array that is never closed as a file-level problem', async () => {
    const records = await read('[{"id":"a"},{"id":"b"');
    expect(records.at(-1)).toMatchObject({
      record: 0,
      field: '(file)',
      reason: expect.stringContaining('not closed'),
    });
  });

  it('refuses binary data as a whole, once, instead of a problem per "line"', async () => {
    const binary = `\u007fELF\u0002\u0001\u0001\u0000\u0000${'\n\u0000\u001b[2J'.repeat(200)}`;
    const records = await read(binary, 64);
    expect(records).toEqual([
      {
        record: 0,
        id: undefined,
        field: '(file)',
        reason: expect.stringContaining('binary data'),
      },
    ]);
  });

  it('stops past maxBytes', async () => {
    await expect(read('{"id":"a"}\n'.repeat(100), 16, { maxBytes: 200 })).rejects.toBeInstanceOf(
      InputTooLargeError,
    );
  });
});
