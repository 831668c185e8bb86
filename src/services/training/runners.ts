import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TrainingConfig } from '../../config/config.js';
import type { RunnerSpec } from './runner-process.js';

/**
 * The built-in trainer as a runner: `node dist/runners/builtin-runner.js <config>` in a build, or
 * the TypeScript source through tsx when the platform itself runs from source (tests, `tsx`).
 */
export function builtinRunner(): RunnerSpec {
  const compiled = fileURLToPath(new URL('../../runners/builtin-runner.js', import.meta.url));
  if (existsSync(compiled)) return { name: 'builtin', command: [process.execPath, compiled], device: 'cpu' };
  const source = fileURLToPath(new URL('../../runners/builtin-runner.ts', import.meta.url));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { name: 'builtin', command: [process.execPath, '--import', tsx, source], device: 'cpu' };
}

/** Every runner this process can start: the built-in one and those ARENA_TRAINING_RUNNERS names. */
export function configuredRunners(config: TrainingConfig): Map<string, RunnerSpec> {
  const runners = new Map<string, RunnerSpec>([['builtin', builtinRunner()]]);
  for (const [name, r] of Object.entries(config.runners)) runners.set(name, { name, command: [...r.command], device: r.device ?? 'any' });
  return runners;
}
