import { mkdirSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { startServer, type ServerProcess } from '../lib/child.js';
import { tempDir } from '../lib/temp-dir.js';
import { clientFor, registerModel } from './client.js';
import { domainModel, type DomainModel } from './dist.js';

/** 64 MiB: a 100,000-text bulk job sent inline is about 15 MB of JSON. */
export const BULK_BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * The servers the inference benchmarks load, each its own process with its own embedded
 * database (or the shared DATABASE_URL/REDIS_URL in scaled mode) and its own copy of the model.
 * The result cache is off everywhere (ARENA_INFERENCE_CACHE_TTL_MS=0): these measure inference.
 */
const SERVERS = {
  main: { name: 'full stack', entry: 'full-stack.ts', env: { ARENA_MICROBATCH_WINDOW_MS: '0' } },
  // Three fresh servers for the micro-batching comparison: the main one has a long audit log by then.
  batchoff: { name: 'full stack, micro-batching off', entry: 'full-stack.ts', env: { ARENA_MICROBATCH_WINDOW_MS: 'off' } },
  batch0: { name: 'full stack, micro-batch window 0 ms (one event-loop turn)', entry: 'full-stack.ts', env: { ARENA_MICROBATCH_WINDOW_MS: '0' } },
  batch1: { name: 'full stack, micro-batch window 1 ms', entry: 'full-stack.ts', env: { ARENA_MICROBATCH_WINDOW_MS: '1' } },
  bulk: {
    name: 'full stack with an inference worker',
    entry: 'full-stack.ts',
    env: {
      ARENA_MICROBATCH_WINDOW_MS: '0',
      ARENA_BODY_LIMIT_BYTES: String(BULK_BODY_LIMIT_BYTES),
      BENCH_WORKER_QUEUES: 'inference',
      BENCH_WORKER_CONCURRENCY: '1',
    },
  },
} as const;

export type ServerKey = keyof typeof SERVERS;

/** Opens PGlite, runs migrations, then takes a 64 MiB upload that is loaded and trial-run in a child process. */
export const SERVER_SETUP_S = 45;
/** Random weights for 2^20 × 16 embeddings, serialized as ONNX. */
export const MODEL_BUILD_S = 15;

export interface ModelServer {
  readonly process: ServerProcess;
  /** The model registered on it, its champion the benchmark model. */
  readonly model: string;
}

/** What the inference benchmarks share: one model, the servers (started on first use) and an in-process session. */
export class InferenceFixture {
  private readonly dir = tempDir('arena-bench-inference-');
  private onnx: Promise<Uint8Array> | undefined;
  private session: Promise<ort.InferenceSession> | undefined;
  private readonly servers = new Map<ServerKey, Promise<ModelServer>>();

  domain(): Promise<DomainModel> {
    return domainModel();
  }

  /** The realistic model: fastText-style, 2^20 buckets × 16 dimensions (64 MiB), ham/spam, the default featurizer. */
  model(): Promise<Uint8Array> {
    return (this.onnx ??= this.domain().then((m) =>
      m.exportOnnx(m.randomWeights(['ham', 'spam'], 16, 2 ** 20, m.mulberry32(1)), { spec: m.DEFAULT_FEATURIZER_SPEC }),
    ));
  }

  /** onnxruntime-node on the same model in this process, one intra-op thread: the bare baseline. */
  ortSession(): Promise<ort.InferenceSession> {
    return (this.session ??= this.model().then((bytes) =>
      ort.InferenceSession.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { intraOpNumThreads: 1 }),
    ));
  }

  server(key: ServerKey, progress: (line: string) => void): Promise<ModelServer> {
    let server = this.servers.get(key);
    if (!server) {
      server = this.start(key, progress);
      this.servers.set(key, server);
    }
    return server;
  }

  private async start(key: ServerKey, progress: (line: string) => void): Promise<ModelServer> {
    const spec = SERVERS[key];
    const started = performance.now();
    const entry = new URL(`../servers/${spec.entry}`, import.meta.url);
    const dataDir = path.join(this.dir, key);
    mkdirSync(dataDir, { recursive: true });
    const env = { ...process.env, ...spec.env, ARENA_INFERENCE_CACHE_TTL_MS: '0', BENCH_DATA_DIR: dataDir };
    const server = await startServer(spec.name, entry, env, SERVER_SETUP_S * 1000);
    try {
      // Unique per run: in scaled mode every server shares one database.
      const model = `bench-${key}-${process.pid}-${Date.now().toString(36)}`;
      const client = clientFor(server.url, server.headers);
      const version = await registerModel(client, model, await this.model());
      await client.close();
      progress(`started ${server.name} and registered ${model} v${version} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${server.info}`);
      return { process: server, model };
    } catch (error) {
      await server.stop();
      throw error;
    }
  }

  /** Stops these servers (all when none are named); safe to call twice. */
  async stop(keys: readonly ServerKey[] = [...this.servers.keys()]): Promise<void> {
    await Promise.all(
      keys.map(async (key) => {
        const server = this.servers.get(key);
        this.servers.delete(key);
        await server?.then((s) => s.process.stop()).catch(() => {});
      }),
    );
  }

  /** A scratch directory of this run (removed at exit). */
  scratch(): string {
    return this.dir;
  }
}
