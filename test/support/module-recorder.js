// Preloaded with `node --import`: records the URL of every module the process resolves, one per line,
// in the file named by RECAP_RECORD_MODULES, so a test can tell which libraries a command loaded.
import { register } from 'node:module';

register('./module-recorder-hooks.js', import.meta.url, { data: { file: process.env.RECAP_RECORD_MODULES } });
