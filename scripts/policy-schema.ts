/**
 * Writes config/access-policy.schema.json from the zod schema of the access-policy file, so that the two
 * cannot drift (test/unit/policy-schema.test.ts fails when the file is stale). `npm run policy:schema`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { policyJsonSchema } from '../src/policy/json-schema';

const file = join(__dirname, '..', 'config', 'access-policy.schema.json');
writeFileSync(file, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${file}\n`);
