/**
 * Writes a model trained outside Node (runners/pytorch/train.py) as the platform's ONNX graph,
 * with the same exporter as the built-in trainer, so both are served the same way:
 *
 *   node dist/runners/export-onnx.js <weights-dir> <config.json>
 *
 * <weights-dir>/weights.json names three little-endian float32 files and their shapes:
 *   { "labels": [...], "dim": D, "buckets": B,
 *     "embeddings": "embeddings.f32",   [B, D] row-major
 *     "outWeights": "out_weights.f32",  [D, C] row-major
 *     "outBias": "out_bias.f32" }       [C]
 * The model goes to <workDir>/model.onnx with the config's featurizer spec in its metadata.
 * Prints protocol lines (log, error); exits 0, or 3 when the weights do not fit the config.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assertValidWeights, checkFeaturizerForTraining, exportOnnx, type FastTextWeights } from '../domain/model/index.js';
import { RUNNER_EXIT_SUCCESS } from '../domain/training/index.js';
import { log, readConfig, RunnerFailure, runMain } from './common.js';

interface WeightsManifest {
  labels: string[];
  dim: number;
  buckets: number;
  embeddings: string;
  outWeights: string;
  outBias: string;
}

async function floats(dir: string, file: unknown): Promise<Float32Array> {
  if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) throw new RunnerFailure(`weights.json: ${JSON.stringify(file)} must be a file name inside ${dir}`, true);
  const buf = await readFile(path.join(dir, file));
  if (buf.byteLength % 4 !== 0) throw new RunnerFailure(`${file} has ${buf.byteLength} bytes, not a whole number of float32 values`, true);
  // A copy: the Buffer may sit at an offset that is not a multiple of 4 in Node's pool.
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

async function main(): Promise<number> {
  if (process.argv.length < 4) throw new RunnerFailure('usage: export-onnx <weights-dir> <config.json>', true);
  const dir = path.resolve(process.argv.at(-2)!);
  const config = await readConfig(process.argv);
  const spec = checkFeaturizerForTraining(config.featurizer);
  if (!spec.ok) throw new RunnerFailure(`invalid featurizer: ${spec.problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, true);
  let manifest: WeightsManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, 'weights.json'), 'utf8')) as WeightsManifest;
  } catch (error) {
    throw new RunnerFailure(`cannot read ${path.join(dir, 'weights.json')}: ${(error as Error).message}`, true);
  }
  if (JSON.stringify(manifest.labels) !== JSON.stringify(config.data.labels)) {
    throw new RunnerFailure(`weights.json labels ${JSON.stringify(manifest.labels)} differ from the config's ${JSON.stringify(config.data.labels)}`, true);
  }
  const weights: FastTextWeights = {
    labels: config.data.labels,
    dim: manifest.dim,
    buckets: manifest.buckets,
    embeddings: await floats(dir, manifest.embeddings),
    outWeights: await floats(dir, manifest.outWeights),
    outBias: await floats(dir, manifest.outBias),
  };
  try {
    assertValidWeights(weights);
    const bytes = exportOnnx(weights, { spec: spec.value, docString: `fastText-style classifier trained by the PyTorch runner (run ${config.runId})` });
    await writeFile(path.join(config.workDir, 'model.onnx'), bytes);
    log('info', `wrote ${path.join(config.workDir, 'model.onnx')} (${(bytes.byteLength / 2 ** 20).toFixed(1)} MiB)`);
  } catch (error) {
    if (error instanceof RunnerFailure) throw error;
    throw new RunnerFailure(`the weights do not make a valid model: ${(error as Error).message}`, true);
  }
  return RUNNER_EXIT_SUCCESS;
}

runMain(main);
