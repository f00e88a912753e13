import type { Config } from '../config.ts';
import { editionFor, type IssueContent } from '../issues/issue-content.ts';
import { createEditionRenderer } from '../render/edition-renderer.ts';
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
 * Messages of an issue from its content: each segment key is rendered once (React) by the edition
 * renderer, then personalised per recipient by substitution. A segment key whose edition has no story
 * (all its segments were skipped) yields null, and the worker marks those deliveries skipped.
 */
export function messageFactoryFor(content: IssueContent, config: EditionSettings): MessageFactory {
  const renderer = createEditionRenderer({
    frame: emailFrameOf(config),
    secrets: config.secrets,
    trackingEnabled: config.trackingEnabled,
    // A hidden link no reader sees: whoever follows it is a scanner (tracked copies only).
    honeypot: true,
    maxHtmlBytes: config.maxHtmlBytes,
  });
  return {
    forSegmentKey(segmentKey) {
      const edition = editionFor(content, segmentSetFromKey(segmentKey).slugs);
      if (!edition.hero && edition.sections.length === 0) return null;
      const template = renderer.template(edition);
      return { personalise: (recipient) => renderer.personalise(template, recipient) };
    },
  };
}
