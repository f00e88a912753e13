import { writeFileSync } from 'node:fs';
import { storyJsonSchema } from '../src/stories/story-json-schema.ts';

writeFileSync(
  new URL('../docs/story.schema.json', import.meta.url),
  `${JSON.stringify(storyJsonSchema(), null, 2)}\n`,
);
