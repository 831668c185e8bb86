import { spawn } from 'node:child_process';

/** A runner as configured: the command (the config file's path is appended) and what it runs on. */
export interface RunnerSpec {
  readonly name: string;
  readonly command: readonly string[];
  /** `cpu` runners never wait for a GPU; `cuda` ones need one; `any` takes a GPU when one is free. */
  readonly device: 'cpu' | 'cuda' | 'any';
}

export interface RunnerExit {
  /** The exit code, null when a signal ended it. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** The end of what it wrote on stderr, for the failure reason. */
  readonly stderrTail: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;
}

export interface RunRunnerOptions {
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly signal: AbortSignal;
  /** The runner is stopped (TERM, then KILL) after this long. */
  readonly timeoutMs: number;
  /** One call per complete stdout line, at most `maxLineBytes` long; longer ones come as `null` (too long). */
  readonly onLine: (line: string | null) => void;
  readonly maxLineBytes?: number;
}

/** Exit code a runner uses for a failure no retry can fix (bad config or data). */
export const RUNNER_PERMANENT_EXIT = 3;
/** After SIGTERM, how long a runner gets before SIGKILL. */
const KILL_GRACE_MS = 2_000;
const STDERR_TAIL_BYTES = 4_096;
const DEFAULT_MAX_LINE = 64 * 1024;

/**
 * Runs a runner command to its end, splitting stdout into lines with a bound on their length (a
 * runner printing a gigabyte without a newline costs 64 KiB here, not a gigabyte). Abort and the
 * time limit stop it with SIGTERM and, if it does not go, SIGKILL; it runs in its own process
 * group so a runner's own children go with it.
 */
export function runRunner(spec: RunnerSpec, configPath: string, o: RunRunnerOptions): Promise<RunnerExit> {
  const maxLine = o.maxLineBytes ?? DEFAULT_MAX_LINE;
  return new Promise((resolve, reject) => {
    const [command, ...args] = spec.command;
    if (!command) return reject(new Error(`runner ${spec.name} has no command`));
    const child = spawn(command, [...args, configPath], {
      cwd: o.cwd,
      env: { ...process.env, ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    let aborted = false;
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child.pid, 'SIGTERM');
      killTimer ??= setTimeout(() => signalGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const onAbort = () => {
      aborted = true;
      stop();
    };
    if (o.signal.aborted) onAbort();
    else o.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, o.timeoutMs);

    // Lines as byte chunks: `pending` holds the start of an unfinished line; `skipping` drops the
    // rest of one that grew past the bound.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let skipping = false;
    child.stdout.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        const part = chunk.subarray(start, nl);
        if (skipping) {
          skipping = false;
        } else if (pendingBytes + part.length > maxLine) {
          o.onLine(null);
        } else {
          const line = pending.length ? Buffer.concat([...pending, part]) : part;
          o.onLine(line.toString('utf8').replace(/\r$/, ''));
        }
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (skipping || rest.length === 0) return;
      if (pendingBytes + rest.length > maxLine) {
        o.onLine(null);
        skipping = true;
        pending = [];
        pendingBytes = 0;
      } else {
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    });
    let stderr = Buffer.alloc(0);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = Buffer.concat([stderr, chunk]);
      if (stderr.length > STDERR_TAIL_BYTES * 2) stderr = stderr.subarray(stderr.length - STDERR_TAIL_BYTES);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      o.signal.removeEventListener('abort', onAbort);
      reject(new Error(`runner ${spec.name} could not start (${spec.command.join(' ')}): ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      o.signal.removeEventListener('abort', onAbort);
      if (!skipping && pendingBytes > 0) o.onLine(Buffer.concat(pending).toString('utf8'));
      const tail = stderr.subarray(Math.max(0, stderr.length - STDERR_TAIL_BYTES)).toString('utf8').trim();
      resolve({ code, signal, stderrTail: tail, timedOut, aborted });
    });
  });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
