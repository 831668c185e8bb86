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
  /** Headers each request to it must carry (authorization for the full stack). */
  readonly headers: Record<string, string>;
  /** User plus system CPU time the server process has used so far. */
  cpuMicros(): Promise<number>;
  stop(): Promise<void>;
}

type Message<T extends ChildMessage['type']> = Extract<ChildMessage, { type: T }>;

const STOP_GRACE_MS = 5_000;
const CPU_PROBE_TIMEOUT_MS = 5_000;

/** Forks a bench/servers/ entry in its own process, so it never shares an event loop with the load generator. */
export async function startServer(name: string, entry: URL, env: NodeJS.ProcessEnv, startTimeoutMs: number): Promise<ServerProcess> {
  // tsx/esm, not tsx: tsx's CommonJS hook wraps every require(), and Apollo calls
  // require('crypto') per request, which made both Apollo targets ~15% slower than in production.
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>", say: flags for the servers' node only.
  const profile = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = fork(entry, [], { execArgv: ['--import', 'tsx/esm', ...profile], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));

  let ready: Message<'ready'>;
  try {
    ready = await next(child, name, 'ready', startTimeoutMs);
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw error;
  }
  return {
    name,
    url: ready.url,
    info: ready.info,
    headers: ready.headers ?? {},
    cpuMicros: async () => (await next(child, name, 'cpu', CPU_PROBE_TIMEOUT_MS, { type: 'cpu' })).micros,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Sends `request`, if any, and waits for the child's next message of `type`. */
function next<T extends ChildMessage['type']>(
  child: ChildProcess,
  name: string,
  type: T,
  timeoutMs: number,
  request?: ParentMessage,
): Promise<Message<T>> {
  return new Promise((resolve, reject) => {
    const settle = (error: Error | undefined, message?: Message<T>) => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(message!);
    };
    const timer = setTimeout(() => settle(new Error(`${name}: no '${type}' message within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: ChildMessage) => {
      if (message.type === type) settle(undefined, message as Message<T>);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      settle(new Error(`${name}: server process exited (code ${code}, signal ${signal}); see its stderr above`));
    child.on('message', onMessage);
    child.once('exit', onExit);
    if (request) child.send(request, (error) => error && settle(error));
  });
}
