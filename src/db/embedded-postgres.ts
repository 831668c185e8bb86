import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { lockDataDir } from './data-dir-lock.js';

export { DataDirInUseError } from './data-dir-lock.js';

export interface EmbeddedPostgres {
  /** A postgres:// URL the pg driver can use; one connection at a time (PGlite is one session). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * PGlite (Postgres compiled to WebAssembly) persisted under the data directory, exposed on a
 * loopback socket so MikroORM's ordinary PostgreSQL driver talks to it exactly as to a server.
 */
export async function startEmbeddedPostgres(dataDir: string, log: Logger): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const release = await lockDataDir(dataDir);
  let db: PGlite | undefined;
  let server: PGLiteSocketServer | undefined;
  try {
    const started = Date.now();
    db = await PGlite.create(path.join(dataDir, 'pgdata'));
    server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 1 });
    await server.start();
    log.info({ dataDir, ms: Date.now() - started }, 'embedded PostgreSQL (PGlite) ready');
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    await release();
    throw error;
  }
  const socket = server;
  const pglite = db;
  let closing: Promise<void> | undefined;
  return {
    url: `postgresql://postgres@${socket.getServerConn()}/postgres`,
    close: () =>
      (closing ??= (async () => {
        await socket.stop();
        await pglite.close();
        await release();
      })()),
  };
}
