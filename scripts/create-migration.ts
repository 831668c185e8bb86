/**
 * Writes a migration for the difference between the entities and the committed migrations.
 * It applies the existing migrations to a throwaway embedded database and diffs against that, so
 * no server is needed. Usage: npm run migration:create -- <Name>
 */
import 'reflect-metadata';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Database } from '../src/db/database.js';
import { createLogger } from '../src/logger.js';

const name = process.argv[2];
if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) {
  console.error('usage: npm run migration:create -- <PascalCaseName>');
  process.exit(2);
}
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'arena-migration-'));
const db = await Database.open({ databaseUrl: undefined, dataDir }, createLogger({ logLevel: 'warn' }));
try {
  await db.migrate();
  const diff = await db.orm.getSchemaGenerator().getUpdateSchemaMigrationSQL({ wrap: false, safe: false });
  if (!diff.up.trim()) {
    console.log('No schema changes: nothing to write.');
  } else {
    const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const className = `Migration${stamp}${name}`;
    const lines = (sql: string) =>
      sql
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => `    this.addSql(${JSON.stringify(l)});`)
        .join('\n');
    const file = path.join('src', 'migrations', `${className}.ts`);
    await writeFile(
      file,
      `import { Migration } from '@mikro-orm/migrations';\n\nexport class ${className} extends Migration {\n  override async up(): Promise<void> {\n${lines(diff.up)}\n  }\n\n  override async down(): Promise<void> {\n${lines(diff.down)}\n  }\n}\n`,
    );
    console.log(`Wrote ${file}. Add { name: '${className}', class: ${className} } to src/migrations/index.ts.`);
  }
} finally {
  await db.close();
  await rm(dataDir, { recursive: true, force: true });
}
