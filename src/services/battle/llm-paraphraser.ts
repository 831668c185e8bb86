import CircuitBreaker from 'opossum';
import pLimit from 'p-limit';
import { ParaphraseError, paraphraseRequest, parseParaphrase, type Paraphrase } from '../../domain/index.js';
import type { LlmConfig } from '../../config/index.js';
import type { Logger } from '../../logger.js';

/** Failures of one battle's paraphrases, by reason, for the notice it ends with. */
export interface ParaphraseTally {
  readonly paraphrase: Paraphrase;
  /** e.g. "timed out after 20000 ms ×12; circuit open ×30"; null when nothing failed. */
  summary(): string | null;
}

/** The breaker opens at this share of failures among the last minute's calls (with at least VOLUME of them). */
const ERROR_PERCENT = 50;
const VOLUME = 5;
/** An error body quoted in a failure at most this long. */
const QUOTE = 120;

/**
 * The llm-paraphrase strategy's language model: an OpenAI-compatible chat endpoint (ARENA_LLM_URL)
 * behind a circuit breaker (opossum), so a hanging or broken endpoint costs a battle one timeout
 * per call at first and then nothing: while the circuit is open, calls fail at once and the
 * engine plays the fallback strategy. Never throws into a battle; every failure is tallied.
 */
export class LlmParaphraser {
  private readonly breaker: CircuitBreaker<[string, number], string> | undefined;
  private readonly limit: ReturnType<typeof pLimit>;

  constructor(
    private readonly config: LlmConfig,
    private readonly log: Logger,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {
    this.limit = pLimit(config.concurrency);
    if (!config.url) return;
    this.breaker = new CircuitBreaker((text: string, seed: number) => this.call(text, seed), {
      name: 'llm-paraphrase',
      timeout: config.timeoutMs,
      errorThresholdPercentage: ERROR_PERCENT,
      volumeThreshold: VOLUME,
      resetTimeout: config.circuitResetMs,
      rollingCountTimeout: 60_000,
    });
    this.breaker.on('open', () => this.log.warn({ url: config.url }, `llm-paraphrase: circuit open after repeated failures; paraphrase rounds fall back for ${config.circuitResetMs / 1000} s`));
    this.breaker.on('close', () => this.log.info({ url: config.url }, 'llm-paraphrase: circuit closed, the language model answers again'));
  }

  /** Whether a language model is configured in this process. */
  get available(): boolean {
    return this.breaker !== undefined;
  }

  /** Why llm-paraphrase is skipped here, or null when it is available. */
  get unavailableReason(): string | null {
    return this.available ? null : 'no language model is configured: set ARENA_LLM_URL to an OpenAI-compatible endpoint (e.g. http://127.0.0.1:11434/v1 for a local Ollama)';
  }

  /** A paraphrase function for one battle, counting its failures. */
  tally(): ParaphraseTally {
    const reasons = new Map<string, number>();
    const fail = (reason: string) => {
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      return null;
    };
    const paraphrase: Paraphrase = async (text, seed) => {
      if (!this.breaker) return fail(this.unavailableReason!);
      try {
        return await this.limit(() => this.breaker!.fire(text, seed));
      } catch (error) {
        return fail(describe(error, this.config.timeoutMs));
      }
    };
    return {
      paraphrase,
      summary: () => (reasons.size === 0 ? null : [...reasons].map(([reason, n]) => `${reason} ×${n}`).join('; ')),
    };
  }

  /** Stops the breaker's timers. */
  close(): void {
    this.breaker?.shutdown();
  }

  private async call(text: string, seed: number): Promise<string> {
    const url = `${this.config.url!.replace(/\/+$/, '')}/chat/completions`;
    const response = await this.fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}) },
      body: JSON.stringify(paraphraseRequest(this.config.model, text, seed)),
      // The breaker's timeout fails the call; this ends the request itself.
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    const body = await response.text();
    if (!response.ok) throw new ParaphraseError(`HTTP ${response.status} from the language model: ${body.slice(0, QUOTE)}`);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new ParaphraseError(`the language model's answer is not JSON: ${JSON.stringify(body.slice(0, QUOTE))}`);
    }
    return parseParaphrase(json, text);
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EOPENBREAKER') return 'circuit open (the language model failed repeatedly)';
  if (code === 'ETIMEDOUT' || (error as Error).name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (error instanceof ParaphraseError) return error.message;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return `unreachable: ${cause?.code ?? cause?.message ?? (error as Error).message}`;
}
