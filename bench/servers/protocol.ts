/** Child to parent, over the IPC channel that `fork` opens. */
export type ChildMessage = { type: 'ready'; url: string; info: string; headers?: Record<string, string> } | { type: 'cpu'; micros: number };

/** Parent to child. */
export type ParentMessage = { type: 'cpu' } | { type: 'stop' };

export interface Served {
  /** The GraphQL endpoint to load. */
  readonly url: string;
  /** One line describing what runs, for the report. */
  readonly info: string;
  /** Headers every request must carry (a signed-in user's authorization). */
  readonly headers?: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Child side of the protocol: announce the endpoint, report this process's CPU time on request
 * (so the parent can tell a saturated server from a saturated load generator), and exit when told
 * to or when the parent goes away, so an aborted run never leaves a server holding a core.
 */
export async function serveChild(start: () => Promise<Served>): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('This server is started by bench/run.ts, which talks to it over IPC.');
  const served = await start();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    served.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'stop') return stop();
    const usage = process.cpuUsage();
    send({ type: 'cpu', micros: usage.user + usage.system } satisfies ChildMessage);
  });
  process.once('disconnect', stop);
  send({ type: 'ready', url: served.url, info: served.info, ...(served.headers ? { headers: served.headers } : {}) } satisfies ChildMessage);
}
