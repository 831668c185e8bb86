import { describe, expect, it, vi } from 'vitest';
import { createContext } from '../../src/graphql/context.js';
import type { Runtime } from '../../src/runtime.js';

describe('request context', () => {
  it('forks the EntityManager and binds the logger only on first use, even when copied as Apollo does', () => {
    const fork = vi.fn(() => ({ forked: true }));
    const child = vi.fn(() => ({ child: true }));
    const runtime = { db: { fork }, log: { child }, services: {} } as unknown as Runtime;
    const context = createContext(runtime, 'req-1', { principal: null, ip: null }, { transport: 'ws' });
    const copy = Object.assign(Object.create(Object.getPrototypeOf(context)), context);
    expect(fork).not.toHaveBeenCalled();
    expect(child).not.toHaveBeenCalled();
    expect(copy.em).toBe(copy.em);
    expect(fork).toHaveBeenCalledTimes(1);
    expect(copy.log).toEqual({ child: true });
    expect(child).toHaveBeenCalledWith({ reqId: 'req-1', transport: 'ws' });
    expect(copy.requestId).toBe('req-1');
  });
});
