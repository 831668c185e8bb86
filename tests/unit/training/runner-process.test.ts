import { describe, expect, it } from 'vitest';
import { DeviceAllocator, NoGpuError } from '../../../src/services/training/devices.js';
import { runRunner, type RunnerSpec } from '../../../src/services/training/runner-process.js';

/** A runner made of a node one-liner; the config path the worker appends is ignored. */
const script = (code: string): RunnerSpec => ({ name: 'script', command: [process.execPath, '-e', code], device: 'cpu' });

async function run(code: string, options: { timeoutMs?: number; maxLineBytes?: number; signal?: AbortSignal } = {}) {
  const lines: (string | null)[] = [];
  const exit = await runRunner(script(code), '/dev/null', {
    cwd: process.cwd(),
    env: {},
    signal: options.signal ?? new AbortController().signal,
    timeoutMs: options.timeoutMs ?? 10_000,
    onLine: (line) => lines.push(line),
    ...(options.maxLineBytes ? { maxLineBytes: options.maxLineBytes } : {}),
  });
  return { exit, lines };
}

describe('runRunner', () => {
  it('splits stdout into lines, across chunks and with a last line lacking its newline', async () => {
    const { exit, lines } = await run(`process.stdout.write('a\\nb'); setTimeout(() => process.stdout.write('c\\r\\nd'), 20)`);
    expect(exit).toMatchObject({ code: 0, signal: null, timedOut: false, aborted: false });
    expect(lines).toEqual(['a', 'bc', 'd']);
  });

  it('reports a line past the bound as one null without holding it, and goes on after it', async () => {
    const { lines } = await run(`process.stdout.write('x'.repeat(5000)); process.stdout.write('y'.repeat(5000) + '\\nok\\n')`, { maxLineBytes: 1024 });
    expect(lines).toEqual([null, 'ok']);
  });

  it('keeps the end of stderr for the failure reason', async () => {
    const { exit } = await run(`console.error('x'.repeat(10000)); console.error('the real reason'); process.exit(7)`);
    expect(exit.code).toBe(7);
    expect(exit.stderrTail.endsWith('the real reason')).toBe(true);
    expect(exit.stderrTail.length).toBeLessThanOrEqual(4096);
  });

  it('stops a runner past its time limit, and one whose signal is aborted, with SIGTERM', async () => {
    const hang = `setInterval(() => {}, 1000)`;
    const timed = await run(hang, { timeoutMs: 200 });
    expect(timed.exit).toMatchObject({ timedOut: true, signal: 'SIGTERM' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const aborted = await run(hang, { signal: controller.signal });
    expect(aborted.exit).toMatchObject({ aborted: true, signal: 'SIGTERM' });
  });

  it('kills with SIGKILL a runner that ignores SIGTERM', async () => {
    const started = Date.now();
    const { exit } = await run(`process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)`, { timeoutMs: 200 });
    expect(exit).toMatchObject({ timedOut: true, signal: 'SIGKILL' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
  });

  it('rejects when the command cannot start', async () => {
    await expect(
      runRunner({ name: 'missing', command: ['/nonexistent/runner'], device: 'cpu' }, '/dev/null', {
        cwd: process.cwd(),
        env: {},
        signal: new AbortController().signal,
        timeoutMs: 1000,
        onLine: () => {},
      }),
    ).rejects.toThrow(/runner missing could not start/);
  });
});

describe('DeviceAllocator', () => {
  const gpus = [
    { kind: 'cpu' as const, cores: 2 },
    { kind: 'cuda' as const, index: 0, name: 'A', memoryMiB: 1 },
    { kind: 'cuda' as const, index: 1, name: 'B', memoryMiB: 1 },
  ];

  it('gives each GPU to one run at a time, queues the next, and hands it over on release', async () => {
    const allocator = new DeviceAllocator(gpus);
    const signal = new AbortController().signal;
    const a = await allocator.acquire('cuda', signal);
    const b = await allocator.acquire('cuda', signal);
    expect([a.device, b.device]).toEqual(['cuda:0', 'cuda:1']);
    expect(a.cudaVisibleDevices).toBe('0');
    let third: string | undefined;
    const waiting = allocator.acquire('cuda', signal).then((l) => (third = l.device));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBeUndefined();
    b.release();
    b.release(); // twice is harmless
    await waiting;
    expect(third).toBe('cuda:1');
    // `any` takes the CPU when every GPU is busy; `cpu` never waits.
    expect((await allocator.acquire('any', signal)).device).toBe('cpu');
    expect((await allocator.acquire('cpu', signal)).cudaVisibleDevices).toBe('');
  });

  it('stops waiting when the run is cancelled, and refuses GPU runs on a machine without GPUs', async () => {
    const allocator = new DeviceAllocator(gpus.slice(0, 2));
    const held = await allocator.acquire('cuda', new AbortController().signal);
    const controller = new AbortController();
    const waiting = allocator.acquire('cuda', controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held.release();
    expect((await allocator.acquire('cuda', new AbortController().signal)).device).toBe('cuda:0');
    await expect(new DeviceAllocator([gpus[0]!]).acquire('cuda', new AbortController().signal)).rejects.toBeInstanceOf(NoGpuError);
  });
});
