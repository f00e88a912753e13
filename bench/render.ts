/**
 * Cost of the recap render: one full React render of a 12-story edition versus personalising the
 * rendered template per recipient (token signing + one pass of concatenation).
 * Run: NODE_ENV=production npx tsx bench/render.ts
 */
import { cpus, loadavg } from 'node:os';

process.env.NODE_ENV ??= 'production';
const { demoEdition, demoFrame } = await import('../emails/fixtures/demo-edition.ts');
const { createEditionRenderer } = await import('../src/render/edition-renderer.ts');
const { signClickTokens, signRecipientTokens, signToken } = await import('../src/tracking/token.ts');

const secrets = { current: 'bench-secret-0123456789-abcdefghijklmnop', previous: [] };
const renderer = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true });
// What readers get: the same copy with "More / Less like this" under each story and the issue rating.
const readers = createEditionRenderer({ frame: demoFrame, secrets, trackingEnabled: true, feedback: true });
const edition = demoEdition();
const recipient = (i: number, trackingEnabled = true) => ({
  subscriberId: String(100000 + i),
  email: `reader${i}@example.com`,
  name: i % 3 === 0 ? null : `Reader ${i}`,
  trackingEnabled,
});

/**
 * CPU time (user + system) per call in µs, the best of three rounds: CPU time rather than wall time so
 * that other processes on a busy machine do not count, the best round to drop GC and scheduling noise.
 */
function time(iterations: number, run: (i: number) => void): number {
  for (let i = 0; i < Math.min(iterations, 200); i++) run(i);
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) run(i);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / iterations);
  }
  return best;
}

const template = renderer.template(edition);
const links = template.links.length;
const positions = template.links.map((link) => link.position);
const fullTemplate = time(100, () => renderer.template(edition));
const fullPerRecipient = time(100, (i) => renderer.renderFor(edition, recipient(i)));
const tracked = time(30_000, (i) => renderer.personalise(template, recipient(i)));
const untracked = time(30_000, (i) => renderer.personalise(template, recipient(i, false)));
const readerTemplate = readers.template(edition);
const withFeedback = time(30_000, (i) => readers.personalise(readerTemplate, recipient(i)));
const feedbackLinks = 2 * readerTemplate.feedback.stories.length + 3;
const feedbackTokens = time(50_000, (i) =>
  signRecipientTokens(secrets, String(100000 + i), 48, positions, readerTemplate.feedbackStoryLinks),
);
const clickOnly = time(50_000, (i) =>
  signClickTokens(
    secrets,
    String(100000 + i),
    48,
    template.links.map((link) => link.position),
  ),
);
const tokensOnly = time(50_000, (i) => signRecipientTokens(secrets, String(100000 + i), 48, positions));
const hmacTokens = time(50_000, (i) => {
  const subscriberId = String(100000 + i);
  signToken(secrets, { kind: 'unsubscribe', subscriberId, issueId: 48 });
  signToken(secrets, { kind: 'preferences', subscriberId });
  signToken(secrets, { kind: 'open', subscriberId, issueId: 48 });
});
const perLinkHmac = time(20_000, (i) => {
  for (const link of template.links) {
    signToken(secrets, { kind: 'click', subscriberId: String(100000 + i), issueId: 48, link: link.position });
  }
});
const sample = renderer.personalise(template, recipient(1));

const rows: Array<[string, string]> = [
  [
    'NODE_ENV, load average (1 min, cores)',
    `${process.env.NODE_ENV}, ${loadavg()[0]?.toFixed(1)} on ${cpus().length}`,
  ],
  ['stories / tracked links in the edition', `12 / ${links}`],
  ['HTML size (personalised)', `${(Buffer.byteLength(sample.html) / 1024).toFixed(1)} KB`],
  ['full render of the edition template (React + text), CPU', `${(fullTemplate / 1000).toFixed(2)} ms`],
  ['full render for one recipient (React + text + tokens)', `${(fullPerRecipient / 1000).toFixed(2)} ms`],
  ['personalise, tracking on (per recipient)', `${tracked.toFixed(1)} µs`],
  ['personalise, tracking off (per recipient)', `${untracked.toFixed(1)} µs`],
  [
    `  of which token signing (open, unsubscribe, preferences + ${links} clicks, one AES pass)`,
    `${tokensOnly.toFixed(1)} µs`,
  ],
  [`  the ${links} click tokens alone`, `${clickOnly.toFixed(1)} µs`],
  ['  for comparison: open, unsubscribe, preferences as HMAC tokens', `${hmacTokens.toFixed(1)} µs`],
  [`  for comparison: ${links} click tokens as one HMAC each`, `${perLinkHmac.toFixed(1)} µs`],
  [
    `personalise, tracking on, with the ${feedbackLinks} feedback links readers' copies carry`,
    `${withFeedback.toFixed(1)} µs`,
  ],
  [
    `  of which token signing (the above + ${feedbackLinks} feedback tokens, same AES pass)`,
    `${feedbackTokens.toFixed(1)} µs`,
  ],
  [
    'HTML size of a reader copy with feedback links',
    `${(Buffer.byteLength(readers.personalise(readerTemplate, recipient(1)).html) / 1024).toFixed(1)} KB`,
  ],
  ['full render ÷ personalise (tracking on)', `${Math.round(fullPerRecipient / tracked)}×`],
];
console.log('| measure | value |\n|---|---|');
for (const [name, value] of rows) console.log(`| ${name} | ${value} |`);
