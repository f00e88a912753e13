import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// Messages of the bounce mailbox (BOUNCE_IMAP_URL) a process has taken on, by the folder's identity and
// the message's UIDVALIDITY and UID, which the IMAP server never gives another message of that folder:
// the primary key is what lets one of several pollers act on a message, and a message handled but not
// yet moved (the process stopped in between) is moved on the next poll without being acted on twice.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE bounce_mailbox_messages (
      mailbox text NOT NULL,
      uid_validity bigint NOT NULL,
      uid bigint NOT NULL,
      message_id text,
      claimed_by text NOT NULL,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      handled_at timestamptz,
      folder text,
      outcome text,
      PRIMARY KEY (mailbox, uid_validity, uid)
    );
    CREATE INDEX bounce_mailbox_messages_handled_at ON bounce_mailbox_messages (handled_at);
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE bounce_mailbox_messages;`.execute(db);
}
