import WebSocket from 'ws';
import type { BatchSizes, SubscriberReply, SubscriberRequest } from './fanout-protocol.js';
import { median, percentile } from './stats.js';

/**
 * battle-fanout's clients, in a process of their own so their work never shares the server's
 * event loop: many graphql-ws (graphql-transport-ws) connections, one battleRoundCompleted
 * subscription each, spoken over raw `ws` so the client costs as little CPU as it can. Some
 * connections can be paused (ws `pause()`: the socket stops being read, as a stalled reader's).
 */
const send = process.send?.bind(process);
if (!send) throw new Error('Started by bench/battle-fanout.ts over IPC.');
const reply = (message: SubscriberReply) => send(message);
const now = () => performance.timeOrigin + performance.now();

interface Subscriber {
  readonly socket: WebSocket;
  readonly paused: boolean;
  rounds: number;
  sizes: number[];
  done: boolean;
  failure: string | null;
}

let subscribers: Subscriber[] = [];
let latencies: number[] = [];
let measure: 'latency' | 'count' = 'latency';
const SENT = Buffer.from('sent=');
const INDEX = Buffer.from('"index":');

function onData(s: Subscriber, data: Buffer): void {
  // Only `next` messages carry rounds; the rest are short.
  if (data.length < 200) {
    const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
    if (message.type === 'complete') s.done = true;
    else if (message.type === 'error') s.failure ??= JSON.stringify(message.payload).slice(0, 300);
    else if (message.type === 'next') s.failure ??= `short next: ${data.toString()}`;
    return;
  }
  const received = now();
  let n = 0;
  if (measure === 'latency') {
    for (let at = data.indexOf(SENT); at !== -1; at = data.indexOf(SENT, at + 5)) {
      const end = data.indexOf(34 /* " */, at);
      latencies.push(received - Number(data.toString('latin1', at + 5, end)));
      n++;
    }
  } else {
    for (let at = data.indexOf(INDEX); at !== -1; at = data.indexOf(INDEX, at + 8)) n++;
  }
  if (n === 0) s.failure ??= data.toString('utf8', 0, 300);
  s.rounds += n;
  s.sizes.push(n);
}

function open(request: Extract<SubscriberRequest, { type: 'open' }>, i: number): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(request.url, 'graphql-transport-ws', { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
    const s: Subscriber = { socket, paused: i < request.paused, rounds: 0, sizes: [], done: false, failure: null };
    socket.once('error', reject);
    socket.once('close', (code, reason) => {
      if (!s.done) s.failure ??= `closed ${code} ${reason.toString()}`;
    });
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${request.token}` } })));
    socket.once('message', (first: Buffer) => {
      if (!first.toString().includes('connection_ack')) return reject(new Error(`no ack: ${first.toString()}`));
      socket.on('message', (data: Buffer) => onData(s, data));
      socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: request.query, variables: { battleId: request.battleId } } }));
      if (s.paused) socket.pause();
      resolve(s);
    });
  });
}

function sizes(list: readonly Subscriber[]): BatchSizes {
  const all = list.flatMap((s) => s.sizes).sort((a, b) => a - b);
  return { messages: all.length, rounds: all.reduce((n, x) => n + x, 0), min: all[0] ?? 0, median: median(all), max: all.at(-1) ?? 0 };
}

process.on('message', async (request: SubscriberRequest) => {
  switch (request.type) {
    case 'open': {
      measure = request.measure;
      // A few at a time: a thousand handshakes at once only queue up in the server's accept backlog.
      for (let i = 0; i < request.count; i += 50) {
        const batch = await Promise.all(Array.from({ length: Math.min(50, request.count - i) }, (_, j) => open(request, i + j)));
        subscribers.push(...batch);
      }
      return reply({ type: 'opened' });
    }
    case 'reset':
      latencies = [];
      for (const s of subscribers) {
        s.rounds = 0;
        s.sizes = [];
      }
      return reply({ type: 'reset' });
    case 'resume':
      for (const s of subscribers) if (s.paused) s.socket.resume();
      return reply({ type: 'resumed' });
    case 'stats': {
      latencies.sort((a, b) => a - b);
      const rounds = subscribers.map((s) => s.rounds);
      const failed = subscribers.filter((s) => s.failure !== null);
      return reply({
        type: 'stats',
        subscribers: subscribers.length,
        minRounds: Math.min(...rounds),
        maxRounds: Math.max(...rounds),
        latency: { n: latencies.length, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), p99: percentile(latencies, 0.99), max: latencies.at(-1) ?? Number.NaN },
        reading: sizes(subscribers.filter((s) => !s.paused)),
        paused: sizes(subscribers.filter((s) => s.paused)),
        failures: failed.length,
        firstFailure: failed[0]?.failure ?? null,
        completed: subscribers.filter((s) => s.done).length,
      });
    }
    case 'close':
      for (const s of subscribers) {
        s.done = true;
        s.socket.terminate();
      }
      subscribers = [];
      return reply({ type: 'closed' });
  }
});
process.once('disconnect', () => process.exit(0));
