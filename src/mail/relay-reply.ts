/**
 * The relay's own id of a message, read from the text of its SMTP 250 reply: SES answers
 * `250 Ok <ses-message-id>`, Postfix and SendGrid `250 2.0.0 Ok: queued as <id>`. Null when the reply
 * names nothing that looks like an id (a bare `250 OK`). Angle brackets are dropped. Pure; never throws.
 */
export function relayMessageIdFromReply(reply: string | undefined): string | null {
  if (!reply) return null;
  const text = reply
    .trim()
    .replace(/^250[ -]/, '')
    .replace(/^\d\.\d{1,3}\.\d{1,3}\s+/, '');
  const queued = /queued as\s+<?([^\s<>]+)>?/i.exec(text);
  const candidate = queued?.[1] ?? text.split(/\s+/).at(-1)?.replace(/^<|>$/g, '') ?? '';
  // An id is long and carries no words: "Ok", "OK:", "accepted", "Great success" are not ids.
  if (candidate.length < 8 || candidate.length > 200 || !/^[A-Za-z0-9._@:=+/-]+$/.test(candidate))
    return null;
  if (!/\d/.test(candidate)) return null;
  return candidate;
}
