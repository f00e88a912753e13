/**
 * Sending throughput, side by side, against Postfix's smtp-sink (no greeting delay, discards mail):
 *   (1) raw ceiling: nodemailer's pool sending one pre-built message over and over;
 *   (2) our pipeline: audience frozen from PostgreSQL, workers claiming, personalising, sending, recording;
 *   (3) a naive script: React Email render + sendMail per recipient.
 * (1) and (2) run at 5 and at 10 pooled connections, without and with DKIM (RSA-2048); each pipeline
 * run is compared with the ceiling measured right before and right after it (their mean), so a load
 * that changes during the run weighs on both alike. Also: the CPU cost of personalising and of
 * composing one copy, and claim throughput at the start and the end of a long queue.
 *
 *   NODE_ENV=production npx tsx bench/send.ts [--subscribers 30000] [--dkim-subscribers 5000]
 *     [--raw 10000] [--naive 1500] [--million] [--skip-paced] [--skip-scale-out] [--cost-only]
 *
 * (2b) repeats (2) with SEND_DOMAIN_LIMITS set for domains the audience does not use and local-time rows that
 * are all due: pacing and local-time claims must not slow an unpaced send.
 * (2c) scale-out: two `recap worker` processes (5 connections each) share one issue, beside the one-process
 * ceiling at 10 connections: what an operator gets by adding a worker.
 *
 * Needs PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); creates and drops
 * its own database. --million sends to 1,000,000 subscribers (or --subscribers N) with a real `recap worker`
 * process (the compiled CLI, 5 connections, no DKIM) and reports msg/s sustained and that process's peak
 * RSS: the memory an operator's worker needs, without this harness's own modules and buffers.
 * RSS_EVERY=S prints the worker's RSS every S seconds (default 60).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

process.env.NODE_ENV ??= 'production';

const { values: args } = parseArgs({
  options: {
    subscribers: { type: 'string' },
    'dkim-subscribers': { type: 'string', default: '5000' },
    raw: { type: 'string', default: '10000' },
    naive: { type: 'string', default: '1500' },
    million: { type: 'boolean', default: false },
    'skip-claims': { type: 'boolean', default: false },
    'skip-paced': { type: 'boolean', default: false },
    'skip-scale-out': { type: 'boolean', default: false },
    'cost-only': { type: 'boolean', default: false },
  },
});
const subscriberCount = Number(args.subscribers ?? (args.million ? 1_000_000 : 30_000));
// The million run measures the pipeline alone, so its peak RSS is not inflated by the other paths.
if (args.million) {
  args.raw = '0';
  args.naive = '0';
  args['skip-claims'] = true;
}
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const [{ default: nodemailer }, pg, { sql }, { createElement }, { render }] = await Promise.all([
  import('nodemailer'),
  import('pg'),
  import('kysely'),
  import('react'),
  import('react-email'),
]);
const { loadConfig } = await import('../src/config.ts');
const { connectDatabase } = await import('../src/db/connect.ts');
const { composeMime, createMessageComposer } = await import('../src/mail/compose-mime.ts');
const { messageFactoryFor, emailFrameOf, editionRendererFor } = await import(
  '../src/delivery/edition-messages.ts'
);
const { createSmtpMailer } = await import('../src/mail/smtp-mailer.ts');
const { startSend } = await import('../src/delivery/start-send.ts');
const { runWorker } = await import('../src/delivery/send-worker.ts');
const { outgoingMessage } = await import('../src/delivery/outgoing-message.ts');
const { claimDeliveries, recordOutcomes } = await import('../src/delivery/delivery.repository.ts');
const { demoIssue, demoSegments } = await import('../emails/fixtures/demo-edition.ts');
const { editionFor } = await import('../src/issues/issue-content.ts');
const { orderedMovable } = await import('../src/render/movable-stories.ts');
const { default: WeeklyRecap } = await import('../emails/weekly-recap.tsx');
const { snapshotOf } = await import('../src/issues/issue-snapshot.ts');
const binRecap = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/recap.js');

type Row = { path: string; messages: number; seconds: number; perSecond: number; note: string };
const rows: Row[] = [];
type CeilingRow = {
  connections: number;
  dkim: boolean;
  raw: number;
  pipeline: number;
  messages: number;
  seconds: number;
  note: string;
};
const ceilingRows: CeilingRow[] = [];
const costLines: string[] = [];
const dkimKey = {
  domain: 'recap.example.com',
  selector: 'bench',
  privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
};
const claimLines: string[] = [];
const rssSamples: string[] = [];

const port = await freePort();
// --cost-only sends nothing: no sink needed.
const sink = args['cost-only'] ? null : startSink(port);
if (sink) await waitForPort(port);
const smtpUrl = `smtp://127.0.0.1:${port}`;
const benchEnv = {
  NODE_ENV: 'production',
  RECAP_SECRET: 'bench-secret-bench-secret-bench-secret-00',
  PUBLIC_URL: 'https://recap.example.com',
  RECAP_FROM_EMAIL: 'recap@recap.example.com',
  SMTP_URL: smtpUrl,
  SMTP_MAX_CONNECTIONS: '5',
  RECAP_DATA_DIR: '/tmp/recap-bench',
};
const config = loadConfig(benchEnv, { dotenvPath: '/nonexistent/.env' });
const content = demoIssue();
const factory = messageFactoryFor(content, config);
const allSlugs = demoSegments.map((s) => s.slug).sort();

try {
  // (1) The ceiling: one realistic message, composed once, sent as raw bytes through the pool.
  const sample = (await factory.forSegmentKey(allSlugs.join('+')))?.personalise({
    subscriberId: '1',
    email: 'reader1@example.test',
    name: 'Reader One',
    trackingEnabled: true,
  });
  if (!sample) throw new Error('no sample message');
  const sampleDelivery = {
    id: '1',
    subscriberId: '1',
    segmentKey: '',
    messageId: '<bench@recap.example.com>',
    attempts: 1,
    email: 'reader1@example.test',
    name: null,
    trackingEnabled: true,
  };
  const sampleContext = {
    issueId: 1,
    fromName: 'Weekly AI Recap',
    fromEmail: 'recap@recap.example.com',
    bounceDomain: 'recap.example.com',
    publicUrl: config.publicUrl,
    listIdDomain: 'weekly-ai-recap.recap.example.com',
    secrets: config.secrets,
  };
  const prebuilt = composeMime(outgoingMessage(sample, sampleDelivery, sampleContext));
  const rawCount = Number(args.raw);
  const signedPrebuilt = await createMessageComposer({ dkim: dkimKey }).compose(
    outgoingMessage(sample, sampleDelivery, sampleContext),
  );
  /** msg/s of one pre-built message (signed once when `dkim`), sent over and over through the pool. */
  async function rawCeiling(connections: number, dkim: boolean): Promise<number> {
    const raw = dkim ? signedPrebuilt : prebuilt;
    const transport = nodemailer.createTransport({
      url: smtpUrl,
      pool: true,
      maxConnections: connections,
      maxMessages: Number.POSITIVE_INFINITY,
    });
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: connections * 2 }, async () => {
        while (next < rawCount) {
          next++;
          await transport.sendMail({
            raw,
            envelope: { from: 'bounces@recap.example.com', to: ['reader1@example.test'] },
          });
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    transport.close();
    return rawCount / seconds;
  }

  // The CPU cost per copy, measured with process.cpuUsage so time spent waiting for a core is not counted.
  // Run after the sends, so its garbage does not weigh on their peak RSS.
  async function measureCostPerCopy() {
    const edition = await factory.forSegmentKey(allSlugs.join('+'));
    if (!edition) throw new Error('no edition');
    const count = 5000;
    const readers = Array.from({ length: count }, (_, i) => ({
      subscriberId: String(1000 + i),
      email: `reader${i}@example.test`,
      name: `Reader ${'x'.repeat(i % 40)}`,
      trackingEnabled: i % 4 !== 0,
    }));
    const cpu = () => {
      const used = process.cpuUsage();
      return (used.user + used.system) / 1000;
    };
    let personalise = Number.POSITIVE_INFINITY;
    let chunks = Number.POSITIVE_INFINITY;
    let whole = Number.POSITIVE_INFINITY;
    const copies = readers.map((reader) =>
      outgoingMessage(edition.personalise(reader), { ...sampleDelivery, email: reader.email }, sampleContext),
    );
    // Spread copies lose their template parts: the composer encodes them from the whole strings.
    const flat = copies.map((copy) => ({ ...copy }));
    // Each reader's own order of the movable stories (as the audience freeze stores it): a seeded
    // shuffle per reader, never the editorial order, with an id no longer in the edition at its end.
    const sections = editionRendererFor(config, { honeypot: true }).template(
      editionFor(content, allSlugs),
    ).movable;
    const movable = sections.flatMap((section) => section.storyIds);
    let seed = 28;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const orders = readers.map(() => {
      const ids = [...movable];
      for (let i = ids.length - 1; i > 0; i--) {
        const j = random(i + 1);
        [ids[i], ids[j]] = [ids[j] as string, ids[i] as string];
      }
      if (sections.every((section) => orderedMovable(section.storyIds, ids) === null)) ids.reverse();
      return [...ids, 'story-left-out-since'];
    });
    const orderedCopies = readers.map((reader, i) =>
      outgoingMessage(
        edition.personalise(reader, orders[i]),
        { ...sampleDelivery, email: reader.email },
        sampleContext,
      ),
    );
    if (orderedCopies.some((copy, i) => copy.html === copies[i]?.html || !copy.parts?.html.sequence))
      throw new Error('an own order left a copy in the editorial order');
    for (let round = 0; round < 5; round++) {
      let started = cpu();
      for (const reader of readers) edition.personalise(reader);
      personalise = Math.min(personalise, ((cpu() - started) * 1000) / count);
      started = cpu();
      for (const copy of copies) composeMime(copy);
      chunks = Math.min(chunks, ((cpu() - started) * 1000) / count);
      started = cpu();
      for (const copy of flat) composeMime(copy);
      whole = Math.min(whole, ((cpu() - started) * 1000) / count);
    }
    /**
     * Editorial vs own order, paired: batches of 250 copies, each batch timed both ways one right after
     * the other, so a load that comes and goes weighs on both alike; per copy the best batch of each.
     */
    const paired = (editorial: (i: number) => void, own: (i: number) => void) => {
      const size = 250;
      let a = Number.POSITIVE_INFINITY;
      let b = Number.POSITIVE_INFINITY;
      for (let batch = 0; batch < 120; batch++) {
        const from = (batch * size) % count;
        let started = cpu();
        for (let i = from; i < from + size; i++) editorial(i);
        a = Math.min(a, ((cpu() - started) * 1000) / size);
        started = cpu();
        for (let i = from; i < from + size; i++) own(i);
        b = Math.min(b, ((cpu() - started) * 1000) / size);
      }
      return { editorial: a, own: b };
    };
    const readerAt = (i: number) => readers[i] as (typeof readers)[0];
    const copyOf = (i: number, order?: string[]) =>
      outgoingMessage(
        edition.personalise(readerAt(i), order),
        { ...sampleDelivery, email: readerAt(i).email },
        sampleContext,
      );
    const orderedSteps = [
      {
        step: 'personalise',
        ...paired(
          (i) => edition.personalise(readerAt(i)),
          (i) => edition.personalise(readerAt(i), orders[i]),
        ),
      },
      {
        step: 'compose from encoded chunks',
        ...paired(
          (i) => composeMime(copies[i] as (typeof copies)[0]),
          (i) => composeMime(orderedCopies[i] as (typeof copies)[0]),
        ),
      },
      {
        step: "personalise + compose (the worker's per-copy path)",
        ...paired(
          (i) => composeMime(copyOf(i)),
          (i) => composeMime(copyOf(i, orders[i])),
        ),
      },
    ];
    const workerPath = orderedSteps[orderedSteps.length - 1];
    const workerExtra = workerPath ? workerPath.own - workerPath.editorial : Number.NaN;
    costLines.push(
      '',
      `CPU per copy (best of 5 × ${count.toLocaleString('en')}; a quarter of the copies untracked): personalise ${personalise.toFixed(1)} µs (goal < 20 µs); ` +
        `compose from encoded chunks ${chunks.toFixed(1)} µs; compose by encoding the whole copy ${whole.toFixed(1)} µs.`,
      '',
      `Each reader's own order (${movable.length} movable stories in ${sections.length} sections; every copy reordered), CPU per copy, best batch of 250 of 120 paired batches:`,
      '',
      '| step | editorial order | own order | extra per copy |',
      '|---|---:|---:|---:|',
      ...orderedSteps.map(
        (row) =>
          `| ${row.step} | ${row.editorial.toFixed(1)} µs | ${row.own.toFixed(1)} µs | ${(row.own - row.editorial).toFixed(1)} µs |`,
      ),
      `Goal ≤ 10 µs extra per copy (personalise + compose): ${workerExtra <= 10 ? 'met' : 'NOT met'}.`,
    );
  }

  // --cost-only: the CPU per copy alone (no database, no send), for a quick look at a change.
  if (args['cost-only']) {
    await measureCostPerCopy();
    for (const line of costLines) console.log(line);
    process.exit(0);
  }

  // (2) The pipeline, from PostgreSQL.
  const dbName = `recap_bench_send_${process.pid}`;
  const admin = new pg.default.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const url = new URL(baseUrl);
  url.pathname = `/${dbName}`;
  const handle = await connectDatabase({ databaseUrl: url.toString(), dataDir: 'unused', poolSize: 6 });
  const db = handle.db;
  let peakRss = process.memoryUsage().rss;
  const rssTimer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  try {
    const seedStarted = performance.now();
    await db
      .insertInto('segments')
      .values(demoSegments.map((s) => ({ name: s.name, slug: s.slug })))
      .execute();
    const segments = await db.selectFrom('segments').select(['id', 'slug']).orderBy('id').execute();
    // Content sections carry the fixture's segment ids: map them to this database's ids.
    const idOf = new Map(segments.map((s) => [s.slug, s.id]));
    for (const section of content.sections)
      section.segment = { ...section.segment, id: idOf.get(section.segment.slug) as number };
    const issue = await db
      .insertInto('issues')
      .values({ week: '2026-W48', status: 'approved' })
      .returning('id')
      .executeTakeFirstOrThrow();
    content.issueId = issue.id;
    await sql`
      INSERT INTO subscribers (email, name)
      SELECT 'reader' || g || '@example.test', 'Reader ' || g FROM generate_series(1, ${subscriberCount}::int) g
    `.execute(db);
    // Everyone follows one segment; every third reader a second one: 4 + 6 segment sets.
    await sql`
      INSERT INTO subscriptions (subscriber_id, segment_id)
      SELECT s.id, g.id FROM subscribers s JOIN segments g ON g.id = (SELECT min(id) FROM segments) + s.id % 4
      UNION ALL
      SELECT s.id, g.id FROM subscribers s JOIN segments g ON g.id = (SELECT min(id) FROM segments) + (s.id + 1 + s.id % 3) % 4
      WHERE s.id % 3 = 0 AND (s.id + 1 + s.id % 3) % 4 <> s.id % 4
    `.execute(db);
    await sql`ANALYZE`.execute(db);
    const seedSeconds = (performance.now() - seedStarted) / 1000;

    process.stderr.write(`seeded ${subscriberCount} subscribers in ${seedSeconds.toFixed(1)} s\n`);

    /** The issue of `week` (W48 is the seeded one, others are made), its audience frozen: the send started. */
    async function frozenIssue(week: string) {
      const runIssue =
        week === '2026-W48'
          ? issue
          : await db
              .insertInto('issues')
              .values({ week, status: 'approved' })
              .returning('id')
              .executeTakeFirstOrThrow();
      const freezeStarted = performance.now();
      const counts = await startSend(db, runIssue.id, {
        messageIdDomain: 'recap.example.com',
        segmentIds: segments.map((s) => s.id),
      });
      return { runIssue, counts, freezeSeconds: (performance.now() - freezeStarted) / 1000 };
    }

    /** One send of a fresh issue to `limit` deliveries (all when null) by one worker. */
    async function pipelineRun(week: string, connections: number, dkim: boolean, limit: number | null) {
      const { runIssue, counts, freezeSeconds } = await frozenIssue(week);
      if (limit !== null) {
        // A shorter queue for the slower signed runs: the first `limit` deliveries, the rest removed.
        await sql`
          DELETE FROM deliveries WHERE issue_id = ${runIssue.id} AND id > (
            SELECT id FROM deliveries WHERE issue_id = ${runIssue.id} ORDER BY id OFFSET ${limit - 1} LIMIT 1)
        `.execute(db);
      }
      const total = limit ?? counts.eligible;
      const mailer = createSmtpMailer({
        url: smtpUrl,
        maxConnections: connections,
        ...(dkim ? { dkim: dkimKey } : {}),
      });
      let lastBucket = -1;
      peakRss = process.memoryUsage().rss;
      const summary = await runWorker({
        db,
        mailer,
        config,
        workerId: `bench-${week}`,
        issueId: runIssue.id,
        concurrency: connections * 2,
        messages: async () => factory,
        onProgress: (p) => {
          const bucket = Math.floor(p.processed / Math.max(1, Math.floor(total / 10)));
          if (bucket === lastBucket) return;
          lastBucket = bucket;
          const rss = process.memoryUsage().rss / 1048576;
          if (args.million) rssSamples.push(`${p.processed}: ${rss.toFixed(0)} MB`);
          process.stderr.write(
            `  pipeline ${connections} connections${dkim ? ', DKIM' : ''}: ${p.processed}/${p.total}, ${(p.elapsedMs / 1000).toFixed(0)} s, RSS ${rss.toFixed(0)} MB\n`,
          );
        },
      });
      await mailer.close();
      const seconds = summary.durationMs / 1000;
      return {
        sent: summary.sent,
        seconds,
        perSecond: summary.sent / seconds,
        freezeSeconds,
        eligible: counts.eligible,
      };
    }

    /**
     * The million (and the scale-out row): the audience frozen here, then `processes` real `recap worker`
     * processes (the compiled CLI an operator runs) send the whole queue; the first one's RSS is read from
     * /proc while it runs (VmHWM: the kernel's own peak).
     */
    async function workerProcessRun(week: string, connections: number, processes = 1) {
      const { runIssue, counts, freezeSeconds } = await frozenIssue(week);
      await db
        .updateTable('issues')
        .set({ content_snapshot: snapshotOf({ ...content, issueId: runIssue.id }) })
        .where('id', '=', runIssue.id)
        .execute();
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        ...benchEnv,
        DATABASE_URL: url.toString(),
        SMTP_MAX_CONNECTIONS: String(connections),
      };
      const started = performance.now();
      const children = Array.from({ length: processes }, () => {
        const child = spawn(process.execPath, [binRecap, 'worker', '--week', week], {
          cwd: tmpdir(),
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        const keep = (chunk: Buffer) => {
          output = (output + chunk.toString()).slice(-4000);
        };
        child.stdout?.on('data', keep);
        child.stderr?.on('data', keep);
        const exited = new Promise<void>((resolve, reject) =>
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`recap worker exited with ${code}:\n${output}`)),
          ),
        );
        return { child, exited };
      });
      let peakKb = 0;
      let lastBucket = -1;
      const sampler = setInterval(() => {
        const status = procStatus(children[0]?.child.pid);
        if (!status) return;
        peakKb = Math.max(peakKb, status.hwmKb);
        const elapsed = (performance.now() - started) / 1000;
        const bucket = process.env.RSS_EVERY
          ? Math.floor(elapsed / Number(process.env.RSS_EVERY))
          : Math.floor(elapsed / 60);
        if (bucket !== lastBucket) {
          lastBucket = bucket;
          rssSamples.push(`${elapsed.toFixed(0)} s: ${(status.rssKb / 1024).toFixed(0)} MB`);
          process.stderr.write(
            `  worker process: ${elapsed.toFixed(0)} s, RSS ${(status.rssKb / 1024).toFixed(0)} MB\n`,
          );
        }
      }, 100);
      try {
        await Promise.all(children.map((c) => c.exited));
      } finally {
        clearInterval(sampler);
      }
      const seconds = (performance.now() - started) / 1000;
      const sent = await db
        .selectFrom('deliveries')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('issue_id', '=', runIssue.id)
        .where('status', '=', 'sent')
        .executeTakeFirstOrThrow();
      return {
        sent: Number(sent.n),
        seconds,
        freezeSeconds,
        eligible: counts.eligible,
        peakMb: peakKb / 1024,
      };
    }

    if (args.million) {
      const run = await workerProcessRun('2026-W48', 5);
      rows.push({
        path: `(2) our pipeline: ${subscriberCount.toLocaleString('en')} subscribers from PostgreSQL`,
        messages: run.sent,
        seconds: run.seconds,
        perSecond: run.sent / run.seconds,
        note: `one \`recap worker\` process, 5 connections, no DKIM; audience frozen in ${run.freezeSeconds.toFixed(1)} s (${run.eligible} rows); peak RSS ${run.peakMb.toFixed(0)} MB`,
      });
    } else {
      const runs = [
        { week: '2026-W48', connections: 5, dkim: false },
        { week: '2026-W44', connections: 10, dkim: false },
        { week: '2026-W45', connections: 5, dkim: true },
        { week: '2026-W46', connections: 10, dkim: true },
      ];
      // A short send first, not counted: the measured runs then all start with the code compiled and the
      // editions' encoded chunks built, as in the long run of a real send (the ceiling's own warm-up is
      // the 'before' run of each pair).
      await pipelineRun('2026-W39', 10, false, 3000);
      for (const { week, connections, dkim } of runs) {
        const before = await rawCeiling(connections, dkim);
        const limit = dkim ? Math.min(Number(args['dkim-subscribers']), subscriberCount) : null;
        const run = await pipelineRun(week, connections, dkim, limit);
        const after = await rawCeiling(connections, dkim);
        process.stderr.write(
          `  ceiling ${connections} connections${dkim ? ', DKIM' : ''}: ${Math.round(before)} before, ${Math.round(after)} after; pipeline ${Math.round(run.perSecond)} msg/s\n`,
        );
        ceilingRows.push({
          connections,
          dkim,
          raw: (before + after) / 2,
          pipeline: run.perSecond,
          messages: run.sent,
          seconds: run.seconds,
          note: `ceiling ${Math.round(before).toLocaleString('en')} before, ${Math.round(after).toLocaleString('en')} after; peak RSS ${(peakRss / 1048576).toFixed(0)} MB`,
        });
        if (!dkim && connections === 5) {
          rows.push(
            {
              path: '(1) raw ceiling: nodemailer pool, one pre-built message',
              messages: rawCount,
              seconds: rawCount / ((before + after) / 2),
              perSecond: (before + after) / 2,
              note: `${(prebuilt.length / 1024).toFixed(0)} KB message, 5 connections (mean of the runs before and after (2))`,
            },
            {
              path: `(2) our pipeline: ${run.sent.toLocaleString('en')} subscribers from PostgreSQL`,
              messages: run.sent,
              seconds: run.seconds,
              perSecond: run.perSecond,
              note: `1 worker, 5 connections; audience frozen in ${run.freezeSeconds.toFixed(1)} s (${run.eligible} rows); peak RSS ${(peakRss / 1048576).toFixed(0)} MB`,
            },
          );
        }
      }
    }

    // (2c) Scale-out, as an operator adds workers when one process is not enough: two `recap worker`
    // processes (the compiled CLI) on one issue, 5 connections each, beside the one-process ceiling at
    // 10 connections. Timed from the first result recorded to the last (process start-up not counted).
    if (!args.million && !args['skip-scale-out']) {
      const before = await rawCeiling(10, false);
      const scaled = await workerProcessRun('2026-W43', 5, 2);
      const after = await rawCeiling(10, false);
      const span = await sql<{ seconds: number }>`
        SELECT extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS seconds
        FROM deliveries d JOIN issues i ON i.id = d.issue_id WHERE i.week = '2026-W43'`.execute(db);
      const seconds = span.rows[0]?.seconds ?? scaled.seconds;
      const perSecond = scaled.sent / seconds;
      const ceiling = (before + after) / 2;
      process.stderr.write(
        `  scale-out: ${Math.round(perSecond)} msg/s; ceiling 10 connections ${Math.round(before)} before, ${Math.round(after)} after\n`,
      );
      rows.push({
        path: '(2c) scale-out: two `recap worker` processes × 5 connections, one issue',
        messages: scaled.sent,
        seconds,
        perSecond,
        note: `${Math.round((perSecond / ceiling) * 100)} % of the one-process ceiling at 10 connections (${Math.round(before).toLocaleString('en')} before, ${Math.round(after).toLocaleString('en')} after); first to last result, start-up not counted`,
      });
    }

    // (2b) The same pipeline with per-domain pacing configured (for domains this audience does not use) and a
    // local-time rollout whose every row has come due: neither may slow an unpaced send.
    if (!args.million && !args['skip-paced']) {
      const pacedConfig = loadConfig(
        {
          ...benchEnv,
          SEND_DOMAIN_LIMITS: 'gmail.com=20,yahoo.com=10,outlook.com=10',
          RECAP_DELIVERY: 'local',
        },
        { dotenvPath: '/nonexistent/.env' },
      );
      const localIssue = await db
        .insertInto('issues')
        .values({ week: '2026-W40', status: 'approved' })
        .returning('id')
        .executeTakeFirstOrThrow();
      await startSend(db, localIssue.id, {
        messageIdDomain: 'recap.example.com',
        segmentIds: segments.map((s) => s.id),
        localTime: { time: pacedConfig.send.localTime, defaultTimeZone: 'UTC' },
      });
      await sql`ANALYZE deliveries`.execute(db);
      const pacedMailer = createSmtpMailer({ url: smtpUrl, maxConnections: 5 });
      const paced = await runWorker({
        db,
        mailer: pacedMailer,
        config: pacedConfig,
        workerId: 'bench-paced',
        issueId: localIssue.id,
        messages: async () => factory,
      });
      await pacedMailer.close();
      const pacedSeconds = paced.durationMs / 1000;
      rows.push({
        path: '(2b) the same with SEND_DOMAIN_LIMITS set (other domains) and local-time rows, all due',
        messages: paced.sent,
        seconds: pacedSeconds,
        perSecond: paced.sent / pacedSeconds,
        note: '1 worker, 5 connections; gmail.com=20,yahoo.com=10,outlook.com=10; not_before on every row',
      });
    }

    if (!args['skip-claims']) await claimBench(db, issue.id);
  } finally {
    clearInterval(rssTimer);
    await handle.close();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin.end();
  }

  if (!args.million) await measureCostPerCopy();

  // (3) Naive: a React render and a composed sendMail per recipient, one after the other.
  const naiveCount = Number(args.naive);
  if (naiveCount > 0) {
    const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 5 });
    const frame = emailFrameOf(config);
    const started = performance.now();
    for (let i = 0; i < naiveCount; i++) {
      const edition = editionFor(content, allSlugs);
      const props = {
        edition,
        frame,
        personal: {
          greeting: `Hi Reader ${i},`,
          unsubscribeUrl: `${frame.publicUrl}/u/${i}`,
          preferencesUrl: `${frame.publicUrl}/p/${i}`,
          pixelUrl: `${frame.publicUrl}/o/${i}`,
        },
      };
      const html = await render(createElement(WeeklyRecap, props));
      const text = await render(createElement(WeeklyRecap, props), { plainText: true });
      await transport.sendMail({
        from: '"Weekly AI Recap" <recap@recap.example.com>',
        to: `reader${i}@example.test`,
        subject: 'Weekly AI Recap',
        html,
        text,
        headers: { 'List-Unsubscribe': `<${frame.publicUrl}/u/${i}>` },
      });
    }
    const seconds = (performance.now() - started) / 1000;
    transport.close();
    rows.push({
      path: '(3) naive: React Email render + sendMail per recipient',
      messages: naiveCount,
      seconds,
      perSecond: naiveCount / seconds,
      note: 'html and text rendered per recipient',
    });
  }

  const raw = rows.find((r) => r.path.startsWith('(1)'))?.perSecond ?? Number.NaN;
  if (ceilingRows.length > 0) {
    console.log(
      '\nOur pipeline vs the raw ceiling, same run (goal: ≥ 95 % without DKIM; DKIM RSA-2048 shown beside)\n',
    );
    console.log(
      '| Connections | DKIM | Raw ceiling msg/s | Pipeline msg/s | Pipeline / ceiling | Goal | Messages | Notes |',
    );
    console.log('|---:|---|---:|---:|---:|---|---:|---|');
    for (const row of ceilingRows) {
      const share = (row.pipeline / row.raw) * 100;
      console.log(
        `| ${row.connections} | ${row.dkim ? 'yes' : 'no'} | ${Math.round(row.raw).toLocaleString('en')} | ${Math.round(row.pipeline).toLocaleString('en')} | ${share.toFixed(0)} % | ${row.dkim ? '–' : share >= 95 ? '≥ 95 %: met' : '≥ 95 %: NOT met'} | ${row.messages.toLocaleString('en')} | ${row.note} |`,
      );
    }
  }
  if (args.million) {
    const run = rows.find((r) => r.path.startsWith('(2)'));
    if (run) {
      console.log(
        `\nMillion: ${Math.round(run.perSecond).toLocaleString('en')} msg/s sustained over ${run.seconds.toFixed(0)} s; ${run.note} (goal < 200 MB)`,
      );
    }
  }
  for (const line of costLines) console.log(line);
  const naive = rows.find((r) => r.path.startsWith('(3)'))?.perSecond ?? Number.NaN;
  console.log(
    `\nSending benchmark (Node ${process.version}, NODE_ENV=${process.env.NODE_ENV}, Postfix smtp-sink on 127.0.0.1)\n`,
  );
  console.log('| Path | Messages | Seconds | msg/s | vs (1) | vs (3) | Notes |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const row of rows) {
    console.log(
      `| ${row.path} | ${row.messages.toLocaleString('en')} | ${row.seconds.toFixed(1)} | ${Math.round(row.perSecond).toLocaleString('en')} | ${Number.isFinite(raw) ? `${Math.round((row.perSecond / raw) * 100)} %` : '–'} | ${Number.isFinite(naive) ? `${(row.perSecond / naive).toFixed(1)}×` : '–'} | ${row.note} |`,
    );
  }
  for (const line of claimLines) console.log(line);
  if (rssSamples.length > 0) {
    console.log(`\nRSS of the worker process (time: RSS): ${rssSamples.join(', ')}`);
  }
} finally {
  sink?.kill('SIGTERM');
}

// --- claim throughput: walk-forward vs plain SKIP LOCKED, first and last tenth of one queue -----------

async function claimBench(db: import('../src/db/database.ts').Db, sentIssueId: number) {
  const results: Record<string, { first: number; last: number }> = {};
  for (const mode of ['walk-forward', 'plain'] as const) {
    const week = mode === 'plain' ? '2026-W50' : '2026-W49';
    const issue = await db
      .insertInto('issues')
      .values({ week, status: 'approved' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const segments = await db.selectFrom('segments').select('id').execute();
    await startSend(db, issue.id, {
      messageIdDomain: 'recap.example.com',
      segmentIds: segments.map((s) => s.id),
    });
    await sql`VACUUM ANALYZE deliveries`.execute(db);
    const total = Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM deliveries WHERE issue_id = ${issue.id}`.execute(
          db,
        )
      ).rows[0]?.n,
    );
    const tenth = Math.floor(total / 10);
    let done = 0;
    let lastId = '0';
    const marks: number[] = [performance.now()];
    while (done < total) {
      const claimed =
        mode === 'walk-forward'
          ? (
              await claimDeliveries(db, {
                issueId: issue.id,
                workerId: 'claims',
                afterId: lastId,
                limit: 500,
                leaseSeconds: 60,
              })
            ).deliveries
          : await plainClaim(db, issue.id, 500);
      if (claimed.length === 0) break;
      lastId = claimed[claimed.length - 1]?.id ?? lastId;
      await recordOutcomes(
        db,
        'claims',
        claimed.map((d) => ({ id: d.id, subscriberId: d.subscriberId, status: 'sent' as const })),
      );
      const before = Math.floor(done / tenth);
      done += claimed.length;
      if (Math.floor(done / tenth) > before) marks.push(performance.now());
    }
    const rate = (i: number) => tenth / (((marks[i + 1] ?? 0) - (marks[i] ?? 0)) / 1000);
    results[mode] = { first: rate(0), last: rate(Math.min(9, marks.length - 2)) };
    void sentIssueId;
  }
  claimLines.push(
    '',
    `Claim + record throughput over one queue of ${subscriberCount.toLocaleString('en')} deliveries (batches of 500, rows/s):`,
    '',
  );
  claimLines.push('| Claim | First tenth | Last tenth |', '|---|---:|---:|');
  for (const [mode, r] of Object.entries(results)) {
    claimLines.push(
      `| ${mode === 'plain' ? 'plain FOR UPDATE SKIP LOCKED' : 'walk forward by id (ours)'} | ${Math.round(r.first).toLocaleString('en')} | ${Math.round(r.last).toLocaleString('en')} |`,
    );
  }
}

async function plainClaim(db: import('../src/db/database.ts').Db, issueId: number, limit: number) {
  const { rows } = await sql<{ id: string; subscriber_id: string }>`
    UPDATE deliveries d SET lease_owner = 'claims', lease_expires_at = now() + interval '60 seconds', attempts = d.attempts + 1
    FROM (SELECT id FROM deliveries WHERE issue_id = ${issueId} AND status = 'queued'
            AND (lease_expires_at IS NULL OR lease_expires_at < now()) ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED) c
    WHERE d.id = c.id RETURNING d.id, d.subscriber_id
  `.execute(db);
  return rows.map((r) => ({ id: r.id, subscriberId: r.subscriber_id }));
}

// --- the sink ---------------------------------------------------------------------------------------

function startSink(port: number): ChildProcess {
  const child = spawn(
    '/usr/sbin/smtp-sink',
    [...(process.getuid?.() === 0 ? ['-u', 'nobody'] : []), `127.0.0.1:${port}`, '1000'],
    { stdio: 'ignore' },
  );
  child.on('error', (error) => {
    console.error(`cannot start /usr/sbin/smtp-sink (apt-get install postfix): ${error.message}`);
    process.exit(1);
  });
  return child;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as import('node:net').AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number): Promise<void> {
  const { connect } = await import('node:net');
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('smtp-sink did not start');
}

/** VmRSS and VmHWM (peak) of a live process, in kB; null once it is gone. */
function procStatus(pid: number | undefined): { rssKb: number; hwmKb: number } | null {
  if (pid === undefined) return null;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return null;
  }
}
