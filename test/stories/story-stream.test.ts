import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ArraySplitter, InputTooLargeError, readStoryRecords } from '../../src/stories/story-stream.ts';

const MAX_RECORD_CHARS = 1024 * 1024;

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

  it('counts the blank lines before the first record when they arrive one byte at a time', async () => {
    expect(await read('\n\r\n \n[{"id":"a"},\n{"id":"b"}]', 1)).toEqual([
      { record: 1, line: 4, value: { id: 'a' } },
      { record: 2, line: 5, value: { id: 'b' } },
    ]);
    expect(await read('\uFEFF\n\n{"id":"a"}\n{"id":"b"}', 1)).toEqual([
      { record: 1, line: 3, value: { id: 'a' } },
      { record: 2, line: 4, value: { id: 'b' } },
    ]);
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

  it('refuses a JSON array element past the per-record cap as soon as it passes it, then reads on', async () => {
    const CHUNK = 64 * 1024;
    const filler = new Uint8Array(CHUNK).fill(0x61);
    let pulled = 0;
    async function* body(): AsyncGenerator<Uint8Array> {
      const parts = [
        new TextEncoder().encode('[{"id":"before"},\n  {"id":"big","title":"'),
        ...Array.from({ length: (24 * 1024 * 1024) / CHUNK }, () => filler),
        new TextEncoder().encode('"},\n  {"id":"after"}]'),
      ];
      for (const part of parts) {
        pulled += part.byteLength;
        yield part;
      }
    }
    const entries: unknown[] = [];
    let pulledAtRefusal = 0;
    for await (const entry of readStoryRecords(body())) {
      if ((entry as { field?: string }).field === '(record)') pulledAtRefusal = pulled;
      entries.push(entry);
    }
    expect(entries).toEqual([
      { record: 1, line: 1, value: { id: 'before' } },
      {
        record: 2,
        line: 2,
        id: undefined,
        field: '(record)',
        reason: `larger than ${MAX_RECORD_CHARS} characters`,
      },
      { record: 3, line: 3, value: { id: 'after' } },
    ]);
    // Refused within one chunk of the cap, not at the element's end 24 MiB later.
    expect(pulledAtRefusal).toBeGreaterThan(MAX_RECORD_CHARS);
    expect(pulledAtRefusal).toBeLessThanOrEqual(MAX_RECORD_CHARS + 2 * CHUNK);
  });

  it('holds at most the cap plus one chunk of a JSON array, whatever the size of an element', () => {
    const splitter = new ArraySplitter(1, MAX_RECORD_CHARS);
    const piece = 'a'.repeat(32 * 1024);
    const elements = [...splitter.push('[{"id":"a"}, "')];
    let held = 0;
    for (let i = 0; i < (24 * 1024 * 1024) / piece.length; i++) {
      elements.push(...splitter.push(piece));
      held = Math.max(held, splitter.heldChars);
    }
    elements.push(...splitter.push('", {"id":"b"}]'));
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(MAX_RECORD_CHARS + piece.length);
    expect(splitter.heldChars).toBe(0);
    expect(elements).toEqual([
      { text: '{"id":"a"}', line: 1 },
      { tooLarge: true, line: 1 },
      { text: ' {"id":"b"}', line: 1 },
    ]);
    expect(splitter.finish()).toBeNull();
  });

  // Before: the reader re-copied what it held on every chunk; here +346 MB (element), +247 MB (blank lines
  // before the array), +197 MB (one 24 MiB line), and +262–298 MB in the server for the element.
  it.each([
    ['a 24 MiB JSON array element', 'element', 3],
    ['24 MiB of blank lines before a JSON array', 'blank', 1],
    ['one 24 MiB line holding one object', 'line', 1],
  ])(
    'reads %s in a few MB of memory (child process, after a forced GC)',
    async (_what, shape, count) => {
      const script = fileURLToPath(new URL('../support/array-element-memory.ts', import.meta.url));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--expose-gc', '--import', 'tsx', script, '24', shape],
        { maxBuffer: 1024 * 1024 },
      );
      const { peakIncreaseBytes, entries } = JSON.parse(stdout) as {
        peakIncreaseBytes: number;
        entries: unknown[];
      };
      expect(entries).toHaveLength(count);
      if (shape === 'blank')
        expect(entries[0]).toEqual({ record: 1, line: 24 * 1024 * 1024 + 1, value: { id: 'after' } });
      else
        expect(entries[shape === 'element' ? 1 : 0]).toMatchObject({
          field: '(record)',
          reason: `larger than ${MAX_RECORD_CHARS} characters`,
        });
      expect(peakIncreaseBytes).toBeLessThan(64 * 1024 * 1024);
    },
    60_000,
  );
});
