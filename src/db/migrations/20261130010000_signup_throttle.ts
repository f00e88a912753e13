import { type Kysely, sql } from 'kysely';

// Frozen in time: never import application code here.
// confirmation_sent_at: when the last sign-up confirmation went to the address, so every process
// holds the "one confirmation per SIGNUP_CONFIRM_INTERVAL" rule through the database.
// address_invalid: the verdict of the strict address parser (NULL = not checked yet). Addresses stored
// before the parser existed are checked when a send freezes its audience; invalid ones are skipped and
// listed by `recap subscribers invalid`. Changing an address clears the verdict so it is checked again.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE subscribers
      ADD COLUMN confirmation_sent_at timestamptz,
      ADD COLUMN address_invalid boolean;
  `.execute(db);
  await sql`
    CREATE FUNCTION subscribers_address_recheck() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.email IS DISTINCT FROM OLD.email THEN
        NEW.address_invalid := NULL;
      END IF;
      RETURN NEW;
    END;
    $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER subscribers_address_recheck BEFORE UPDATE OF email ON subscribers
      FOR EACH ROW EXECUTE FUNCTION subscribers_address_recheck();
  `.execute(db);
  await sql`CREATE INDEX subscribers_address_unchecked ON subscribers (id) WHERE address_invalid IS NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER subscribers_address_recheck ON subscribers`.execute(db);
  await sql`DROP FUNCTION subscribers_address_recheck()`.execute(db);
  await sql`DROP INDEX subscribers_address_unchecked`.execute(db);
  await sql`ALTER TABLE subscribers DROP COLUMN confirmation_sent_at, DROP COLUMN address_invalid`.execute(
    db,
  );
}
