// Writes manifests/schema.json from MANIFEST_SCHEMA (schema.ts):
//   node --import tsx src/manifest/gen-schema.ts
// schema.test.ts fails while the committed file differs from what this writes.

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { schemaJsonText } from './schema.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../manifests/schema.json', import.meta.url));

writeFileSync(SCHEMA_FILE, schemaJsonText());
console.log(`wrote ${SCHEMA_FILE}`);
