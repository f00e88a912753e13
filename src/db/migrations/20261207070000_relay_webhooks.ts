import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
//
// A relay's own id for each message (the text of its SMTP 250 reply, e.g. SES's `250 Ok <id>`), so a
// provider's webhook event naming only that id finds its delivery. And the provider events already acted
// on: the primary key is what makes a redelivered event count once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE deliveries ADD COLUMN relay_message_id text;
    CREATE INDEX deliveries_relay_message_id ON deliveries (relay_message_id) WHERE relay_message_id IS NOT NULL;
    CREATE TABLE webhook_events (
      provider text NOT NULL,
      event_id text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (provider, event_id)
    );
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    DROP TABLE webhook_events;
    DROP INDEX deliveries_relay_message_id;
    ALTER TABLE deliveries DROP COLUMN relay_message_id;
  `.execute(db);
}
