import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RoundPublisher } from '../../../src/services/battle/round-publisher.js';

describe('RoundPublisher', () => {
  let sent: { rounds: number[]; view: string; at: number }[];
  let publisher: RoundPublisher<number, string>;
  const errors: unknown[] = [];
  let t0 = 0;

  beforeEach(() => {
    vi.useFakeTimers();
    t0 = Date.now();
    sent = [];
    errors.length = 0;
    publisher = new RoundPublisher<number, string>(
      async (rounds, view) => {
        sent.push({ rounds: [...rounds], view, at: Date.now() - t0 });
      },
      50,
      (e) => errors.push(e),
      () => Date.now(),
    );
  });
  afterEach(() => vi.useRealTimers());

  it('sends the first batch at once, merges the ones that come faster, and sends them when the interval is up', async () => {
    await publisher.add([0, 1], 'after 2');
    expect(sent).toEqual([{ rounds: [0, 1], view: 'after 2', at: 0 }]);
    vi.advanceTimersByTime(10);
    await publisher.add([2], 'after 3');
    vi.advanceTimersByTime(10);
    await publisher.add([3, 4], 'after 5');
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30);
    expect(sent[1]).toEqual({ rounds: [2, 3, 4], view: 'after 5', at: 50 });
  });

  it('does not hold a batch that comes after a quiet spell', async () => {
    await publisher.add([0], 'a');
    vi.advanceTimersByTime(200);
    await publisher.add([1], 'b');
    expect(sent.map((s) => s.at)).toEqual([0, 200]);
  });

  it('flush() sends what is held, in order, and then nothing twice', async () => {
    await publisher.add([0], 'a');
    await publisher.add([1], 'b');
    await publisher.add([2], 'c');
    await publisher.flush();
    expect(sent.map((s) => s.rounds)).toEqual([[0], [1, 2]]);
    await publisher.flush();
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toHaveLength(2);
    expect(errors).toEqual([]);
  });

  it('reports a failed send from the timer instead of losing it silently', async () => {
    let calls = 0;
    const failing = new RoundPublisher<number, string>(
      async (rounds) => {
        calls++;
        throw new Error(`redis down (${rounds.join(',')})`);
      },
      50,
      (e) => errors.push(e),
      () => Date.now(),
    );
    await expect(failing.add([0], 'a')).rejects.toThrow('redis down (0)');
    await failing.add([1], 'b');
    await vi.advanceTimersByTimeAsync(60);
    // The held batch was still tried after the first failure, and its own failure reported.
    expect(calls).toBe(2);
    expect(errors.map((e) => (e as Error).message)).toEqual(['redis down (1)']);
  });
});
