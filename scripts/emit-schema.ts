import { writeFile } from 'node:fs/promises';
import { printSortedSchema } from '../src/graphql/schema.js';

await writeFile(new URL('../schema/schema.graphql', import.meta.url), await printSortedSchema());
console.log('wrote schema/schema.graphql');
