import { z } from 'zod';
import { storyInputSchema } from './story.ts';

/** The JSON Schema of an enriched story as accepted by `recap import stories` (what docs/story.schema.json holds). */
export function storyJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://github.com/weekly-ai-recap/weekly-ai-recap/docs/story.schema.json',
    title: 'Enriched story',
    description:
      'One enriched AI-news story. `recap import stories` takes a JSON array of these, a single one, or NDJSON (one per line). Either publishedAt or collectedAt is required. Links must be http(s). Unknown fields are ignored.',
    ...z.toJSONSchema(storyInputSchema, { io: 'input', unrepresentable: 'any' }),
  };
}
