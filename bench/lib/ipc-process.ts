import { fork, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
// Whatever ends the parent, no child may outlive it and steal CPU from the next run.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A forked bench process that answers typed requests over IPC, one kind of answer per request. */
export interface IpcProcess<Req extends { type: string }, Rep extends { type: string }> {
  /** Sends `request` and waits for the next reply of `type`. */
  ask<T extends Rep['type']>(request: Req, type: T, timeoutMs: number): Promise<Extract<Rep, { type: T }>>;
  /** Waits for a reply of `type` without sending anything (the first `ready`). */
  expect<T extends Rep['type']>(type: T, timeoutMs: number): Promise<Extract<Rep, { type: T }>>;
  stop(stopRequest: Req): Promise<void>;
}

/** Forks `entry` with tsx (see lib/child.ts for why tsx/esm), stderr shown, stdout ignored. */
export function forkIpc<Req extends { type: string }, Rep extends { type: string }>(name: string, entry: URL, env: NodeJS.ProcessEnv = process.env): IpcProcess<Req, Rep> {
  // BENCH_SERVER_NODE_ARGS (see child.ts): flags for the forked processes' node, e.g. --cpu-prof.
  const extra = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(/\s+/).filter(Boolean);
  const child = fork(entry, [], { execArgv: ['--import', 'tsx/esm', ...extra], env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => live.delete(child));
  const wait = <T extends Rep['type']>(type: T, timeoutMs: number, request?: Req) =>
    new Promise<Extract<Rep, { type: T }>>((resolve, reject) => {
      const settle = (error: Error | undefined, message?: Rep) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (error) reject(error);
        else resolve(message as Extract<Rep, { type: T }>);
      };
      const timer = setTimeout(() => settle(new Error(`${name}: no '${type}' reply within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (message: Rep) => {
        if (message.type === type) settle(undefined, message);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => settle(new Error(`${name}: exited (code ${code}, signal ${signal}); see its stderr above`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      if (request) child.send(request, (error) => error && settle(error));
    });
  return {
    ask: (request, type, timeoutMs) => wait(type, timeoutMs, request),
    expect: (type, timeoutMs) => wait(type, timeoutMs),
    async stop(stopRequest) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.send(stopRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
