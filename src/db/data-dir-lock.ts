import { randomUUID } from 'node:crypto';
import { open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by another arena process (pid ${pid}); an embedded database belongs to one process. ` +
        'Stop that process, point ARENA_DATA_DIR elsewhere, or go through the running server.',
    );
    this.name = 'DataDirInUseError';
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive pid file, so that two processes never open one PGlite directory. A lock left by
 * a process that no longer exists (a crash, a SIGKILL) is taken over. Deliberately installs no
 * signal handlers: shutdown on SIGTERM is the CLI's job, and the lock is released there.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const file = path.join(dataDir, 'arena.pid');
  const token = `${process.pid} ${randomUUID()}`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(token);
      await handle.close();
      return async () => {
        const current = await readFile(file, 'utf8').catch(() => '');
        if (current === token) await unlink(file).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readFile(file, 'utf8').catch(() => '')).split(' ')[0]);
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder);
      }
      if (holder === process.pid) throw new DataDirInUseError(dataDir, holder);
      await unlink(file).catch(() => {}); // stale: its process is gone
    }
  }
  throw new Error(`Could not lock ${dataDir}`);
}
