import { signToken, tokenToLocalPart } from '../../../src/tracking/token.ts';
import { SECRET } from '../../web/web-fixtures.ts';

const secrets = { current: SECRET, previous: [] };

/** The VERP return path of `subscriberId`'s copy of issue `issueId`, as the send engine writes it. */
export const bounceAddress = (subscriberId: string, issueId: number) =>
  `bounces+${tokenToLocalPart(signToken(secrets, { kind: 'bounce', subscriberId, issueId }))}@recap.test`;

const lines = (...parts: string[]) => `${parts.join('\r\n')}\r\n`;

/** A hard bounce as Postfix writes it, delivered to the bounce mailbox (Delivered-To, X-Original-To). */
export function mailboxDsn(returnPath: string, messageId: string): string {
  return lines(
    'Delivered-To: bounces@recap.test',
    `X-Original-To: ${returnPath}`,
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    `To: ${returnPath}`,
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: ${messageId}`,
    'Date: Mon, 07 Dec 2026 08:00:05 +0000',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"',
    '',
    '--BOUNDARY',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I could not deliver your message.',
    '',
    '--BOUNDARY',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    '',
    'Final-Recipient: rfc822; alice@example.org',
    'Action: failed',
    'Status: 5.1.1',
    'Diagnostic-Code: smtp; 550 5.1.1 no such mailbox',
    '',
    '--BOUNDARY',
    'Content-Type: text/rfc822-headers',
    '',
    `Return-Path: <${returnPath}>`,
    'From: Weekly AI Recap <recap@recap.test>',
    'To: alice@example.org',
    'Subject: Your weekly AI recap',
    '',
    '--BOUNDARY--',
  );
}

/**
 * A mailbox provider's ARF complaint, sent to the feedback address (not to a token of ours): the
 * returned original's Return-Path carries the VERP token.
 */
export function mailboxArf(returnPath: string, messageId: string): string {
  return lines(
    'Delivered-To: bounces@recap.test',
    'From: Feedback Loop <fbl@isp.example>',
    'To: fbl@recap.test',
    'Subject: Complaint about message from 192.0.2.1',
    `Message-ID: ${messageId}`,
    'Date: Mon, 07 Dec 2026 09:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"',
    '',
    '--ARF',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is an email abuse report.',
    '',
    '--ARF',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    '',
    '--ARF',
    'Content-Type: message/rfc822',
    'Content-Disposition: attachment',
    '',
    `Return-Path: <${returnPath}>`,
    'From: Weekly AI Recap <recap@recap.test>',
    'To: bob@example.org',
    'Subject: Your weekly AI recap',
    '',
    'Hello',
    '--ARF--',
  );
}

/** An out-of-office reply to the return path: an auto-reply, not a bounce. */
export function mailboxOutOfOffice(returnPath: string, messageId: string): string {
  return lines(
    'Delivered-To: bounces@recap.test',
    `X-Original-To: ${returnPath}`,
    'From: Carol <carol@example.org>',
    `To: ${returnPath}`,
    'Subject: Out of office: Your weekly AI recap',
    `Message-ID: ${messageId}`,
    'Date: Mon, 07 Dec 2026 08:01:00 +0000',
    'Auto-Submitted: auto-replied',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I am away until 4 January with no access to email.',
  );
}

/** Spam that found the bounce mailbox. */
export function mailboxSpam(messageId: string): string {
  return lines(
    'Delivered-To: bounces@recap.test',
    'From: "Prize Desk" <winner@spam.example>',
    'To: bounces@recap.test',
    'Subject: You have won',
    `Message-ID: ${messageId}`,
    'Date: Mon, 07 Dec 2026 07:00:00 +0000',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'Claim your prize at http://spam.example/claim',
  );
}
