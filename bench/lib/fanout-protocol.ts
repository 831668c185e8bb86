/** What bench/battle-fanout.ts asks its two child processes, the server and the subscribers. */
export type FanoutRequest =
  | { type: 'stop' }
  | { type: 'cpu' }
  | { type: 'memory' }
  /** Server: publish `count` one-round batches on the battle's rounds topic at `perSecond`. */
  | { type: 'publish'; battleId: string; perSecond: number; count: number; firstIndex: number };

export type FanoutReply =
  | { type: 'ready'; url: string; info: string; headers: Record<string, string> }
  | { type: 'cpu'; micros: number }
  | { type: 'memory'; rss: number; heapUsed: number; peakRss: number; peakHeapUsed: number }
  | { type: 'published'; count: number; lateMs: number };

/** Subscriber process requests. */
export type SubscriberRequest =
  | {
      type: 'open';
      /** ws://…/graphql */
      url: string;
      token: string;
      battleId: string;
      count: number;
      /** This many of them stop reading their socket (ws pause) until `resume`. */
      paused: number;
      query: string;
      /** Parse each message for the send time its rounds carry (probe rounds), or only count rounds. */
      measure: 'latency' | 'count';
    }
  | { type: 'reset' }
  | { type: 'stats' }
  | { type: 'resume' }
  | { type: 'close' };

export interface BatchSizes {
  readonly messages: number;
  readonly rounds: number;
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface SubscriberStats {
  readonly type: 'stats';
  readonly subscribers: number;
  /** Rounds received per subscriber: the fewest and the most. */
  readonly minRounds: number;
  readonly maxRounds: number;
  /** Publish → receive, per round received, ms. */
  readonly latency: { n: number; p50: number; p95: number; p99: number; max: number };
  readonly reading: BatchSizes;
  readonly paused: BatchSizes;
  /** Subscriptions that got an error or closed early, with the first such message. */
  readonly failures: number;
  readonly firstFailure: string | null;
  /** Subscriptions the server completed (the battle ended). */
  readonly completed: number;
}

export type SubscriberReply = { type: 'opened' } | { type: 'resumed' } | { type: 'reset' } | { type: 'closed' } | SubscriberStats;
