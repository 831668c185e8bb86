import { spawnSync } from 'node:child_process';
import os from 'node:os';

export type Device = { readonly kind: 'cpu'; readonly cores: number } | { readonly kind: 'cuda'; readonly index: number; readonly name: string; readonly memoryMiB: number };

/**
 * The devices of this machine: the CPU, and each NVIDIA GPU `nvidia-smi` lists. `ARENA_GPUS`
 * overrides the probe: `none`, or indexes (`0,1`) to use only those.
 */
export function detectDevices(gpus: string | undefined): Device[] {
  const cpu: Device = { kind: 'cpu', cores: os.availableParallelism() };
  if (gpus === 'none') return [cpu];
  const listed = probeNvidiaSmi();
  const wanted = gpus ? new Set(gpus.split(',').map((s) => Number(s.trim()))) : null;
  const cuda = wanted
    ? [...wanted].map((index) => listed.find((d) => d.index === index) ?? { kind: 'cuda' as const, index, name: 'unknown', memoryMiB: 0 })
    : listed;
  return [cpu, ...cuda];
}

function probeNvidiaSmi(): Extract<Device, { kind: 'cuda' }>[] {
  try {
    const r = spawnSync('nvidia-smi', ['--query-gpu=index,name,memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 5_000 });
    if (r.status !== 0 || !r.stdout) return [];
    return r.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(',').map((s) => s.trim()))
      .filter((f) => f.length >= 3 && /^\d+$/.test(f[0]!))
      .map(([index, name, memory]) => ({ kind: 'cuda' as const, index: Number(index), name: name!, memoryMiB: Number(memory) || 0 }));
  } catch {
    return [];
  }
}

export interface DeviceLease {
  /** `cpu` or `cuda:<index>`. */
  readonly device: string;
  /** For the runner's environment: the GPU it may use, or none (`""`). */
  readonly cudaVisibleDevices: string;
  release(): void;
}

/**
 * Hands out this worker's GPUs one run at a time (the CPU to any number of runs: the worker's
 * concurrency bounds those). A run that needs a GPU while all are busy waits, honouring its signal.
 */
export class DeviceAllocator {
  private readonly free: number[];
  private readonly waiting: { resolve: (index: number) => void }[] = [];

  constructor(readonly devices: readonly Device[]) {
    this.free = devices.flatMap((d) => (d.kind === 'cuda' ? [d.index] : []));
  }

  get gpuCount(): number {
    return this.devices.filter((d) => d.kind === 'cuda').length;
  }

  async acquire(want: 'cpu' | 'cuda' | 'any', signal: AbortSignal): Promise<DeviceLease> {
    if (want === 'cpu' || (want === 'any' && this.free.length === 0)) return { device: 'cpu', cudaVisibleDevices: '', release: () => {} };
    if (this.gpuCount === 0) throw new NoGpuError();
    const index = this.free.length > 0 ? this.free.shift()! : await this.wait(signal);
    let released = false;
    return {
      device: `cuda:${index}`,
      cudaVisibleDevices: String(index),
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next.resolve(index);
        else this.free.push(index);
      },
    };
  }

  private wait(signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const entry = {
        resolve: (index: number) => {
          signal.removeEventListener('abort', onAbort);
          resolve(index);
        },
      };
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted while waiting for a GPU'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }
}

export class NoGpuError extends Error {
  override name = 'NoGpuError';
  constructor() {
    super('this runner needs a GPU and this worker has none (run `arena worker --queues training` on a GPU machine, or set ARENA_GPUS)');
  }
}
