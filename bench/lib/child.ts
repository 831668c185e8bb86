import { fork, type ChildProcess } from 'node:child_process';
import type { ChildMessage, ParentMessage } from '../servers/protocol.js';

const live = new Set<ChildProcess>();
// Whatever ends the parent, no server may outlive it and steal CPU from the next run.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly info: string;
  /** User plus system CPU time the server process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

const STOP_GRACE_MS = 5_000;

/** Forks a bench/servers/ entry in its own process, so it never shares an event loop with the load generator. */
export function startServer(name: string, entry: URL, env: NodeJS.ProcessEnv, startTimeoutMs: number): Promise<ServerProcess> {
  const child = fork(entry, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  const request = <T extends ChildMessage['type']>(message: ParentMessage | undefined, type: T, timeoutMs: number) =>
    new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const timer = setTimeout(() => finish(new Error(`${name}: no '${type}' message within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: ChildMessage) => {
        if (m.type === type) finish(undefined, m as Extract<ChildMessage, { type: T }>);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish(new Error(`${name}: server process exited (code ${code}, signal ${signal}); see its stderr above`));
      function finish(error: Error | undefined, m?: Extract<ChildMessage, { type: T }>) {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(m!);
      }
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (message) child.send(message);
    });

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  return request(undefined, 'ready', startTimeoutMs).then(
    (ready) => ({
      name,
      url: ready.url,
      info: ready.info,
      cpuMicros: async () => (await request({ type: 'cpu' }, 'cpu', 5_000)).micros,
      stop,
    }),
    async (error: unknown) => {
      child.kill('SIGKILL');
      await exited;
      throw error;
    },
  );
}
