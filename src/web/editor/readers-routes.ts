import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadReaderFeedback } from '../../feedback/feedback.repository.ts';
import type { Segment } from '../../stories/segment.ts';
import { listSegments } from '../../stories/story.repository.ts';
import type { ConsentContext } from '../../subscribers/consent-log.ts';
import { parseEmailAddress } from '../../subscribers/email-address.ts';
import { eraseSubscriber } from '../../subscribers/erasure.ts';
import {
  countMatchingReaders,
  countReadersByStatus,
  listReaders,
  MIN_SEARCH_LENGTH,
  noFilter,
  READER_STATUSES,
  type ReaderCursor,
  type ReaderFilter,
  type ReaderStatus,
  readersMatching,
} from '../../subscribers/reader-directory.ts';
import { createReaderImport, findReaderImport } from '../../subscribers/reader-import.repository.ts';
import { runReaderImport } from '../../subscribers/reader-import-job.ts';
import { loadReaderProfile } from '../../subscribers/reader-profile.ts';
import { addReader } from '../../subscribers/subscriber.repository.ts';
import { unsubscribeSubscriber, updatePreferences } from '../../subscribers/subscription-changes.ts';
import { unsuppressSubscriber } from '../../subscribers/suppression.ts';
import { html } from '../html.ts';
import { field, fields, type WebDeps } from '../web-context.ts';
import { editorCsp, editorPage, sendEditorPage } from './editor-layout.ts';
import { eraseConfirmBody, readerBody } from './reader-page.ts';
import { addReaderBody, importFormBody, importJobBody, readersBody } from './readers-page.ts';

/** Readers per page of the list. */
const PAGE_SIZE = 50;
/** Matches are counted up to this many (a broad search over a million readers stops there). */
const COUNT_CAP = 10_000;
/** The largest CSV the editor accepts (this route only; every other route refuses files). */
export const READER_IMPORT_MAX_BYTES = 50 * 1024 * 1024;
/** How long the counts per status are reused (they are recounted after every change made here). */
const STATUS_COUNTS_FOR_MS = 30_000;
/** A running import whose row has not moved for this long is shown as stopped (its server went away). */
const STALLED_AFTER_MS = 2 * 60_000;

type Query = Record<string, unknown>;
const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');

/** The filter of a query string, or the first problem with it (the page then lists without that part). */
export function parseReaderFilter(
  query: Query,
  segments: readonly Segment[],
): { filter: ReaderFilter; problem: string | null } {
  let problem: string | null = null;
  const search = text(query.q).normalize('NFC').slice(0, 200);
  const segment = text(query.segment);
  const status = text(query.status);
  const tracked = text(query.tracked);
  const sunset = text(query.sunset);
  const filter: ReaderFilter = { ...noFilter };
  if (search.length >= MIN_SEARCH_LENGTH) filter.search = search;
  else if (search) problem = `Type at least ${MIN_SEARCH_LENGTH} characters of the address or the name.`;
  const segmentId = /^\d{1,9}$/.test(segment) ? Number(segment) : Number.NaN;
  if (segments.some((s) => s.id === segmentId)) filter.segmentId = segmentId;
  else if (segment) problem ??= 'That segment does not exist.';
  if ((READER_STATUSES as readonly string[]).includes(status)) filter.status = status as ReaderStatus;
  else if (status) problem ??= 'Unknown status.';
  if (tracked === 'yes' || tracked === 'no') filter.tracked = tracked === 'yes';
  else if (tracked) problem ??= 'Tracking is yes or no.';
  if (sunset === 'asked' || sunset === 'paused') filter.sunset = sunset;
  else if (sunset) problem ??= 'Sunset is asked or paused.';
  return { filter, problem };
}

function cursorOf(query: Query): ReaderCursor {
  const after = text(query.after);
  const before = text(query.before);
  if (/^\d{1,18}$/.test(after)) return { after };
  if (/^\d{1,18}$/.test(before)) return { before };
  return null;
}

function editorContext(request: FastifyRequest): ConsentContext {
  const agent = request.headers['user-agent'];
  return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent : null, source: 'editor' };
}

function backToReader(reply: FastifyReply, id: string, message: { notice?: string; error?: string }) {
  const params = new URLSearchParams(message as Record<string, string>);
  return reply.redirect(`/editor/readers/${id}?${params}`, 303);
}

/** One CSV cell: quoted when needed; a leading = + - @ is defused so a spreadsheet never runs it as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The Readers pages: list and search, one reader and its actions, add, CSV import with progress, CSV export. */
// Long: the readers' route table; each handler is a few lines over the subscriber modules.
export function registerReadersRoutes(editor: FastifyInstance, deps: WebDeps): void {
  const { db, config } = deps;
  const running = new Set<Promise<void>>();
  // Counting a million readers per status reads the whole table (0.1–0.7 s): the page reuses a count
  // for STATUS_COUNTS_FOR_MS, and any change made here (a form, an import) counts again.
  let statusCounts: { at: number; counts: ReturnType<typeof countReadersByStatus> } | null = null;
  const countsByStatus = () => {
    if (!statusCounts || Date.now() - statusCounts.at > STATUS_COUNTS_FOR_MS) {
      const counts = countReadersByStatus(db);
      statusCounts = { at: Date.now(), counts };
      counts.catch(() => {
        statusCounts = null;
      });
    }
    return statusCounts.counts;
  };
  editor.addHook('onResponse', async (request) => {
    if (request.method === 'POST' && request.url.startsWith('/editor/readers')) statusCounts = null;
  });
  editor.addHook('onClose', async () => {
    // An import in flight finishes (or fails) before the database closes under it.
    await Promise.allSettled([...running]);
  });

  editor.get('/editor/readers', async (request, reply) => {
    const query = request.query as Query;
    const segments = await listSegments(db);
    const { filter, problem } = parseReaderFilter(query, segments);
    const [statusCounts, matches, page] = await Promise.all([
      countsByStatus(),
      countMatchingReaders(db, filter, COUNT_CAP),
      listReaders(db, filter, cursorOf(query), PAGE_SIZE),
    ]);
    const body = readersBody({
      filter,
      segments,
      statusCounts,
      matches,
      page,
      timeZone: config.timeZone,
      problem,
    });
    return sendEditorPage(problem ? reply.code(400) : reply, 'Readers', body, request);
  });

  editor.get('/editor/readers/export.csv', async (request, reply) => {
    const segments = await listSegments(db);
    const { filter, problem } = parseReaderFilter(request.query as Query, segments);
    if (problem)
      return sendEditorPage(reply.code(400), 'Readers', html`<p class="error">${problem}</p>`, request);
    const lines = async function* () {
      yield 'email,name,segments,timezone,tracking,status,created_at\n';
      for await (const r of readersMatching(db, filter)) {
        yield `${[r.email, r.name ?? '', r.segments.join(';'), r.timeZone ?? '', r.trackingEnabled ? 'yes' : 'no', r.status, r.createdAt.toISOString()].map(csvCell).join(',')}\n`;
      }
    };
    const stamp = new Date().toISOString().slice(0, 10);
    return reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="readers-${stamp}.csv"`)
      .header('cache-control', 'no-store')
      .send(Readable.from(lines()));
  });

  editor.get('/editor/readers/add', async (request, reply) =>
    sendEditorPage(
      reply,
      'Add a reader',
      addReaderBody(await listSegments(db), config.trackingDefault),
      request,
    ),
  );

  editor.post('/editor/readers/add', async (request, reply) => {
    const body = request.body;
    const segments = await listSegments(db);
    const values = {
      email: field(body, 'email') ?? '',
      name: field(body, 'name') ?? '',
      basis: field(body, 'basis') ?? '',
      segment: fields(body, 'segment'),
    };
    const refuse = (message: string) =>
      sendEditorPage(
        reply.code(400),
        'Add a reader',
        html`<p class="error" role="alert">${message}</p>${addReaderBody(segments, config.trackingDefault, values)}`,
        request,
      );
    const address = parseEmailAddress(values.email);
    if (!address.ok) return refuse(`The address ${address.reason}.`);
    const name = values.name.trim();
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    if (name.length > 200 || /[\u0000-\u001f\u007f]/.test(name))
      return refuse('A name is at most 200 plain characters.');
    const segmentIds = segments.filter((s) => values.segment.includes(String(s.id))).map((s) => s.id);
    if (segmentIds.length === 0)
      return refuse('Choose at least one segment: a reader with none would get nothing.');
    const basis = values.basis.trim();
    if (basis.length < 5 || basis.length > 500)
      return refuse('Say how they asked to receive it (5 to 500 characters).');
    const result = await addReader(
      db,
      {
        email: address.address,
        name: name || null,
        timeZone: null,
        segmentIds,
        tracking: field(body, 'tracking') === 'yes',
        basis,
      },
      editorContext(request),
    );
    if (result.outcome === 'erased')
      return refuse('This address was erased at the person’s request: it can never be added again.');
    if (result.outcome === 'exists')
      return backToReader(reply, result.id, {
        error: 'This address is already a reader: nothing was changed.',
      });
    return backToReader(reply, result.id, { notice: 'Added as a confirmed reader.' });
  });

  editor.get('/editor/readers/import', async (request, reply) =>
    sendEditorPage(reply, 'Import readers', importFormBody(READER_IMPORT_MAX_BYTES), request),
  );

  editor.post(
    '/editor/readers/import',
    // The one route that takes a file: one CSV, up to READER_IMPORT_MAX_BYTES (the server's own
    // multipart limits, files: 0, stay on every other route).
    {
      config: {
        multipartOptions: {
          limits: { files: 1, fileSize: READER_IMPORT_MAX_BYTES, fields: 5, fieldSize: 100 },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as Record<string, unknown> | undefined;
      const file = body?.file;
      if (!Buffer.isBuffer(file) || file.length === 0)
        return sendEditorPage(
          reply.code(400),
          'Import readers',
          html`<p class="error" role="alert">Choose a CSV file to import (the form is sent as multipart/form-data).</p>${importFormBody(READER_IMPORT_MAX_BYTES)}`,
          request,
        );
      const skipInvalid = field(body, 'skip_invalid') === 'yes';
      const fileName = `upload of ${(file.length / 1024).toFixed(1)} KB`;
      const id = await createReaderImport(db, { fileName, bytesTotal: file.length, skipInvalid });
      const job = runReaderImport(db, id, file, {
        fileName,
        skipInvalid,
        trackingDefault: config.trackingDefault,
      });
      running.add(job);
      void job.finally(() => {
        running.delete(job);
        statusCounts = null;
      });
      return reply.redirect(`/editor/readers/import/${id}`, 303);
    },
  );

  editor.get('/editor/readers/import/:id', async (request, reply) => {
    const job = await findReaderImport(db, (request.params as { id: string }).id);
    if (!job)
      return sendEditorPage(
        reply.code(404),
        'No such import',
        html`<p>There is no import with this number.</p>`,
      );
    const stalled = job.finishedAt === null && Date.now() - job.updatedAt.getTime() > STALLED_AFTER_MS;
    const over = job.finishedAt !== null || stalled;
    return (
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('cache-control', 'no-store')
        // This page alone may run the editor's own progress script and ask for its JSON.
        .header(
          'content-security-policy',
          over ? editorCsp : `${editorCsp}; script-src 'self'; connect-src 'self'`,
        )
        .header('referrer-policy', 'same-origin')
        .send(
          editorPage(
            over ? 'Import result' : 'Importing readers…',
            html`${importJobBody(job, config.timeZone, stalled)}${over ? '' : html`<script src="/editor/readers/import-progress.js" defer></script>`}`,
          ),
        )
    );
  });

  editor.get('/editor/readers/import/:id/progress.json', async (request, reply) => {
    const job = await findReaderImport(db, (request.params as { id: string }).id);
    if (!job) return reply.code(404).header('cache-control', 'no-store').send({ error: 'no such import' });
    return reply.header('cache-control', 'no-store').send({
      status: job.status,
      over: job.finishedAt !== null,
      bytesRead: job.bytesRead,
      bytesTotal: job.bytesTotal,
      rowsRead: job.rowsRead,
    });
  });

  editor.get('/editor/readers/import-progress.js', async (_request, reply) =>
    reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(progressScript),
  );

  editor.get('/editor/readers/:id', async (request, reply) => {
    const reader = await loadReaderProfile(db, (request.params as { id: string }).id);
    if (!reader)
      return sendEditorPage(
        reply.code(404),
        'No such reader',
        html`<p>There is no reader with this number (erased readers are gone).</p><p><a href="/editor/readers">Back to the readers</a></p>`,
      );
    return sendEditorPage(
      reply,
      reader.email,
      readerBody(reader, await listSegments(db), config.timeZone, await loadReaderFeedback(db, reader.id)),
      request,
    );
  });

  registerReaderActions(editor, deps);
}

// Long: the reader page's five forms (segments, pause, unsubscribe, unsuppress, erase), each a few lines.
function registerReaderActions(editor: FastifyInstance, deps: WebDeps): void {
  const { db } = deps;
  const readerOf = (request: FastifyRequest) => loadReaderProfile(db, (request.params as { id: string }).id);
  const missing = (reply: FastifyReply) =>
    sendEditorPage(reply.code(404), 'No such reader', html`<p>There is no reader with this number.</p>`);

  editor.post('/editor/readers/:id/segments', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    const wanted = fields(request.body, 'segment');
    const segmentIds = (await listSegments(db)).filter((s) => wanted.includes(String(s.id))).map((s) => s.id);
    if (segmentIds.length === 0)
      return backToReader(reply, reader.id, {
        error: 'Choose at least one segment (to stop their mail, unsubscribe them).',
      });
    // Only the reader may resubscribe themselves: an editor's change of segments never does.
    await updatePreferences(
      db,
      reader.id,
      { segmentIds, pauseWeeks: undefined, mayResubscribe: false },
      editorContext(request),
    );
    return backToReader(reply, reader.id, { notice: 'Segments saved.' });
  });

  editor.post('/editor/readers/:id/pause', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    const weeks = field(request.body, 'weeks') ?? '';
    if (!/^(0|[1-9]|1[0-2])$/.test(weeks))
      return backToReader(reply, reader.id, { error: 'A pause is 0 to 12 weeks.' });
    await updatePreferences(
      db,
      reader.id,
      { segmentIds: reader.segmentIds, pauseWeeks: Number(weeks), mayResubscribe: false },
      editorContext(request),
    );
    return backToReader(reply, reader.id, {
      notice: weeks === '0' ? 'No pause: they get the next issue.' : `Paused for ${weeks} weeks.`,
    });
  });

  editor.post('/editor/readers/:id/unsubscribe', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    const { changed } = await unsubscribeSubscriber(db, reader.id, editorContext(request), { by: 'editor' });
    return backToReader(
      reply,
      reader.id,
      changed
        ? { notice: 'Unsubscribed.' }
        : { error: `Not subscribed (${reader.status}): nothing changed.` },
    );
  });

  editor.post('/editor/readers/:id/unsuppress', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    const reason = (field(request.body, 'reason') ?? '').trim();
    if (reason.length < 5 || reason.length > 500)
      return backToReader(reply, reader.id, {
        error: 'Say why this address may be mailed again (5 to 500 characters).',
      });
    const { changed } = await unsuppressSubscriber(db, reader.id, reason, editorContext(request));
    return backToReader(
      reply,
      reader.id,
      changed
        ? { notice: 'Unsuppressed: the address is mailed again.' }
        : { error: 'This address is not suppressed.' },
    );
  });

  editor.get('/editor/readers/:id/erase', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    return sendEditorPage(reply, `Erase ${reader.email}?`, eraseConfirmBody(reader), request);
  });

  editor.post('/editor/readers/:id/erase', async (request, reply) => {
    const reader = await readerOf(request);
    if (!reader) return missing(reply);
    const typed = (field(request.body, 'confirm') ?? '').normalize('NFC').trim().toLowerCase();
    if (typed !== reader.email)
      return sendEditorPage(
        reply.code(400),
        `Erase ${reader.email}?`,
        html`<p class="error" role="alert">The address typed does not match: nothing was erased.</p>${eraseConfirmBody(reader)}`,
        request,
      );
    await eraseSubscriber(db, reader.email, editorContext(request));
    return reply.redirect(
      `/editor/readers?${new URLSearchParams({ notice: 'Erased: the reader’s data is gone and the address cannot come back.' })}`,
      303,
    );
  });
}

/** The progress page's script: polls the JSON every second, moves the bar, reloads once the import is over. */
const progressScript = `(() => {
  const box = document.getElementById('import-progress');
  if (!box) return;
  const bar = document.getElementById('import-bar');
  const phase = document.getElementById('import-phase');
  const url = location.pathname.replace(/\\/$/, '') + '/progress.json';
  const tick = async () => {
    try {
      const response = await fetch(url, { cache: 'no-store', credentials: 'same-origin' });
      const job = await response.json();
      if (job.over) { location.reload(); return; }
      const percent = job.bytesTotal > 0 ? Math.floor((job.bytesRead / job.bytesTotal) * 100) : 100;
      bar.value = job.status === 'writing' ? 100 : percent;
      bar.textContent = percent + ' %';
      phase.textContent = job.status === 'writing'
        ? 'Writing ' + job.rowsRead.toLocaleString('en') + ' rows…'
        : 'Reading: ' + job.rowsRead.toLocaleString('en') + ' rows, ' + percent + ' %';
    } catch (error) { /* the next tick tries again */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
})();
`;
