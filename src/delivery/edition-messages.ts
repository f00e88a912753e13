import type { Config } from '../config.ts';
import { editionFor, type IssueContent } from '../issues/issue-content.ts';
import { writingForVariant } from '../issues/subject-variants.ts';
import { createEditionRenderer, type EditionRenderer } from '../render/edition-renderer.ts';
import type { EmailFrame } from '../render/rendered-message.ts';
import { segmentSetFromKey } from '../stories/segment-set.ts';
import type { MessageFactory } from './message-factory.ts';

/** What rendering a recap edition reads: the sender, PUBLIC_URL, the token secrets, tracking and size limits. */
export type EditionSettings = Pick<
  Config,
  'sender' | 'publicUrl' | 'secrets' | 'trackingEnabled' | 'maxHtmlBytes'
>;

/** The frame of every recap mail, from the configuration. */
export function emailFrameOf(config: Pick<Config, 'sender' | 'publicUrl'>): EmailFrame {
  const domain = config.sender.email.split('@')[1] ?? 'localhost';
  return {
    publicUrl: config.publicUrl,
    senderName: config.sender.name,
    senderEmail: config.sender.email,
    postalAddress: config.sender.postalAddress,
    listIdDomain: `weekly-ai-recap.${domain}`,
    unsubscribeMailDomain: config.sender.bounceDomain,
  };
}

/**
 * The edition renderer of the configuration: one place maps the settings to the renderer's options.
 * `honeypot` adds the hidden scanner trap (the sender's tracked copies); `feedback` the readers'
 * "More / Less like this" and rating links (the sender's copies, never a test); `trackingEnabled: false`
 * renders untracked copies whatever TRACKING says (the public archive).
 */
export function editionRendererFor(
  config: EditionSettings,
  options: { honeypot?: boolean; feedback?: boolean; trackingEnabled?: boolean } = {},
): EditionRenderer {
  return createEditionRenderer({
    frame: emailFrameOf(config),
    secrets: config.secrets,
    trackingEnabled: options.trackingEnabled ?? config.trackingEnabled,
    ...(options.honeypot ? { honeypot: true } : {}),
    ...(options.feedback ? { feedback: true } : {}),
    maxHtmlBytes: config.maxHtmlBytes,
  });
}

/**
 * Messages of an issue from its content: each segment key (× subject variant) is rendered once (React)
 * by the edition renderer, then personalised per recipient by substitution. A segment key whose edition has no story
 * (all its segments were skipped) yields null, and the worker marks those deliveries skipped.
 */
export function messageFactoryFor(content: IssueContent, config: EditionSettings): MessageFactory {
  // A hidden link no reader sees: whoever follows it is a scanner (tracked copies only). Every reader's
  // copy, tracked or not, carries the feedback links.
  const renderer = editionRendererFor(config, { honeypot: true, feedback: true });
  return {
    forSegmentKey(segmentKey, variant) {
      const edition = editionFor(content, segmentSetFromKey(segmentKey).slugs);
      if (!edition.hero && edition.sections.length === 0) return null;
      const writing = writingForVariant(content.writing, content.subjectVariants, variant);
      const template = renderer.template({ ...edition, ...(writing ? { writing } : {}) });
      return { personalise: (recipient, order) => renderer.personalise(template, recipient, order) };
    },
  };
}
