import type { Db } from '../db/database.ts';
import { loadIssueContent } from '../issues/issue-content.repository.ts';
import { type EditionSettings, messageFactoryFor } from './edition-messages.ts';
import type { MessageFactory } from './message-factory.ts';

/** Loads the issue's content from the database and wraps it in a factory. Throws if the issue has none. */
export async function editionMessageFactory(
  db: Db,
  config: EditionSettings & { timeZone: string },
  issue: { id: number; week: string },
): Promise<MessageFactory> {
  const content = await loadIssueContent(db, issue.week, config.timeZone);
  if (!content) throw new Error(`issue ${issue.week} has no stored content; build it first`);
  return messageFactoryFor(content, config);
}
