import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The `arena` CLI from source, as a child process. */
export function spawnArena(args: string[], env: Record<string, string>): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

export async function runArena(args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawnArena(args, env);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, output: child.output() };
}

/** Waits for the JSON log line announcing the API and returns its base URL. */
export async function waitForListening(child: ReturnType<typeof spawnArena>, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = /"url":"(http:\/\/[^"]+)\/graphql"/.exec(child.output());
    if (match) return match[1]!;
    if (child.exitCode !== null) throw new Error(`arena exited with ${child.exitCode}:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`arena did not start listening:\n${child.output()}`);
}
