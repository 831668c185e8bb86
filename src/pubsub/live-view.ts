/**
 * A subscription stream: `current` first, then each event, ending after the first `isLast` one.
 *
 * Hand-written rather than an async generator on purpose: a generator parked in `await
 * events.next()` queues `return()` until the next event arrives, so a client that disconnects
 * from a quiet topic would leave its listener (and graphql-ws's close handler) hanging. Here
 * `return()` ends the event iterator at once, which also resolves the parked `next()`.
 */
export function liveView<T>(current: T, events: AsyncIterator<T>, isLast: (value: T) => boolean): AsyncIterableIterator<T> {
  let sentCurrent = false;
  let finished = false;
  const finish = async (): Promise<IteratorReturnResult<undefined>> => {
    if (!finished) {
      finished = true;
      await events.return?.();
    }
    return { value: undefined, done: true };
  };
  const emit = async (value: T): Promise<IteratorResult<T>> => {
    if (isLast(value)) await finish();
    return { value, done: false };
  };
  return {
    async next() {
      if (finished) return { value: undefined, done: true };
      if (!sentCurrent) {
        sentCurrent = true;
        return emit(current);
      }
      const step = await events.next();
      if (finished || step.done) return finish();
      return emit(step.value);
    },
    return: finish,
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
