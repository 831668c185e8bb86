import { describe, expect, it } from 'vitest';
import { MicroBatcher } from '../../src/inference/micro-batcher.js';

describe('MicroBatcher', () => {
  it('runs concurrent calls within the window as one, and gives each caller its own slice', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (items: number[]) => {
      runs.push(items);
      return items.map((n) => n * 10);
    }, 5, 100);
    const results = await Promise.all([batcher.submit([1, 2]), batcher.submit([3]), batcher.submit([4, 5, 6])]);
    expect(results).toEqual([[10, 20], [30], [40, 50, 60]]);
    expect(runs).toEqual([[1, 2, 3, 4, 5, 6]]);
  });

  it('flushes at once when the batch is full, and runs oversized calls alone', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (items: number[]) => {
      runs.push(items);
      return items;
    }, 10_000, 4);
    await Promise.all([batcher.submit([1, 2]), batcher.submit([3, 4])]); // would hang for 10 s if the full batch waited
    await batcher.submit([5, 6, 7, 8, 9]);
    expect(runs).toEqual([[1, 2, 3, 4], [5, 6, 7, 8, 9]]);
  });

  it('with a zero window, gathers the calls of one event-loop turn without waiting for a timer', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (items: number[]) => {
      runs.push(items);
      return items;
    }, 0, 100);
    await Promise.all([batcher.submit([1]), batcher.submit([2])]);
    await new Promise((r) => setTimeout(r, 5)); // a later turn
    await batcher.submit([3]);
    expect(runs).toEqual([[1, 2], [3]]);
  });

  it('runs every call alone when batching is off', async () => {
    const runs: number[][] = [];
    const batcher = new MicroBatcher(async (items: number[]) => {
      runs.push(items);
      return items;
    }, null, 100);
    await Promise.all([batcher.submit([1]), batcher.submit([2])]);
    expect(runs).toEqual([[1], [2]]);
  });

  it('fails every caller of a failed run, and keeps working after it', async () => {
    let fail = true;
    const batcher = new MicroBatcher(async (items: number[]) => {
      if (fail) throw new Error('onnxruntime said no');
      return items;
    }, 2, 100);
    const outcomes = await Promise.allSettled([batcher.submit([1]), batcher.submit([2])]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await batcher.submit([3])).toEqual([3]);
  });
});
