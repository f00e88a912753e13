/**
 * Does rendering keep memory? 5,000 renders of the 12-story recap in one process through the path the
 * application uses (react-dom/server renderToStaticMarkup), heap measured after a forced GC before and
 * after; the same for React Email's render() over fewer calls, for comparison.
 * Run: NODE_ENV=production node --expose-gc --import tsx bench/render-memory.ts [renders]
 */
process.env.NODE_ENV ??= 'production';
const { createElement } = await import('react');
const { render } = await import('react-email');
const { default: WeeklyRecap } = await import('../emails/preview/weekly-recap.tsx');
const { demoEdition, demoFrame } = await import('../emails/fixtures/demo-edition.ts');
const { createEditionRenderer } = await import('../src/render/edition-renderer.ts');

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run node with --expose-gc');
const renders = Number(process.argv[2] ?? 5000);
const compareRenders = Math.min(renders, 1000);

function heapMb(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

const renderer = createEditionRenderer({
  frame: demoFrame,
  secrets: { current: 'memory-secret-0123456789-abcdefghijklmn', previous: [] },
  trackingEnabled: true,
});
const edition = demoEdition();
const rows: string[] = [];

async function measure(name: string, count: number, run: () => unknown | Promise<unknown>) {
  for (let i = 0; i < 20; i++) await run();
  const before = heapMb();
  const start = performance.now();
  for (let i = 0; i < count; i++) await run();
  const seconds = (performance.now() - start) / 1000;
  const after = heapMb();
  const perCall = ((after - before) * 1024) / count;
  rows.push(
    `| ${name} | ${count} | ${before.toFixed(1)} MB | ${after.toFixed(1)} MB | ${perCall.toFixed(2)} KB | ${((seconds * 1000) / count).toFixed(2)} ms |`,
  );
}

await measure('renderer.template() (renderToStaticMarkup + text)', renders, () => renderer.template(edition));
await measure('react-email render() of the same view', compareRenders, () =>
  render(createElement(WeeklyRecap, WeeklyRecap.PreviewProps)),
);

console.log(`NODE_ENV=${process.env.NODE_ENV}, node ${process.version}\n`);
console.log(
  '| path | renders | heap before (after GC) | heap after (after GC) | retained per render | time per render |',
);
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
