import { describe, expect, it } from 'vitest';
import {
  BattleEngine,
  PARAPHRASE_FALLBACK,
  PARAPHRASE_MAX_INPUT,
  ParaphraseError,
  paraphraseRequest,
  parseParaphrase,
  validateBattleConfig,
  type BattleConfig,
  type Defend,
  type Paraphrase,
} from '../../../src/domain/attack/index.js';

const completion = (content: unknown) => ({ choices: [{ index: 0, message: { role: 'assistant', content } }] });
const TEXT = 'win free money now, click here';

describe('paraphraseRequest', () => {
  it('is an OpenAI chat completion request: a system prompt, the text as the user message, the seed', () => {
    const r = paraphraseRequest('llama3.2', TEXT, 42);
    expect(r).toMatchObject({ model: 'llama3.2', seed: 42, stream: false, messages: [{ role: 'system' }, { role: 'user', content: TEXT }] });
    expect(r.messages[0]!.content).toMatch(/Reply with the rewritten message only/);
    expect(r.max_tokens).toBeGreaterThan(TEXT.length / 4);
  });

  it('sends at most the first PARAPHRASE_MAX_INPUT characters of a long text', () => {
    const long = 'spam '.repeat(2000);
    expect(paraphraseRequest('m', long, 1).messages[1]!.content).toBe(long.slice(0, PARAPHRASE_MAX_INPUT));
  });
});

describe('parseParaphrase', () => {
  it.each([
    ['plain', 'gain no-cost funds today', 'gain no-cost funds today'],
    ['quoted', '"gain no-cost funds today"', 'gain no-cost funds today'],
    ['curly quotes', '“gain no-cost funds today”', 'gain no-cost funds today'],
    ['a preamble', 'Sure! Here is the rewritten message:\n\ngain no-cost funds today', 'gain no-cost funds today'],
    ['a code fence', '```text\ngain no-cost funds today\n```', 'gain no-cost funds today'],
    ['spaces around', '  gain no-cost funds today \n', 'gain no-cost funds today'],
  ])('takes the paraphrase out of %s', (_name, content, expected) => {
    expect(parseParaphrase(completion(content), TEXT)).toBe(expected);
  });

  it('keeps the part of a long text the model was not sent', () => {
    const long = `${'a'.repeat(PARAPHRASE_MAX_INPUT)}TAIL`;
    expect(parseParaphrase(completion('short rewrite'), long)).toBe('short rewriteTAIL');
  });

  it.each<[string, unknown, RegExp]>([
    ['no choices', { choices: [] }, /no choices/],
    ['not an object', 'hello', /no choices/],
    ['null', null, /no choices/],
    ['an error object', { error: { message: 'model not found' } }, /no choices/],
    ['no content', { choices: [{ message: {} }] }, /no message content/],
    ['content not text', completion(42), /no message content/],
    ['an empty answer', completion('   '), /empty/],
    ['empty quotes', completion('""'), /empty/],
    ['the text unchanged', completion(TEXT), /unchanged/],
    ['a rambling answer', completion('x'.repeat(5000)), /far longer/],
  ])('refuses %s with a ParaphraseError that says why', (_name, response, message) => {
    expect(() => parseParaphrase(response, TEXT)).toThrow(ParaphraseError);
    expect(() => parseParaphrase(response, TEXT)).toThrow(message);
  });
});

describe('the engine and llm-paraphrase', () => {
  const seeds = [
    { text: 'win free money now', split: 'train' },
    { text: 'free prize, click now', split: 'test' },
  ] as const;
  const config = (strategies: string[]): BattleConfig => {
    const r = validateBattleConfig({ rounds: 40, seeds, batchSize: 16, seed: 3, strategies, paraphrase: true });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.config;
  };
  /** Detects the word "free" only. */
  const defend: Defend = async (texts) => texts.map((t) => ({ harmfulScore: /free/.test(t) ? 0.9 : 0.1, detected: /free/.test(t) }));

  async function play(engine: BattleEngine, paraphrase?: Paraphrase) {
    const rounds = [];
    let state = engine.initialState();
    while (!engine.isDone(state)) {
      const batch = await engine.runBatch(state, defend, paraphrase);
      rounds.push(...batch.rounds);
      state = batch.state;
    }
    return { rounds, state };
  }

  it('plays the model’s paraphrase as the variant', async () => {
    const seen: number[] = [];
    const { rounds, state } = await play(new BattleEngine(config(['llm-paraphrase'])), async (text, seed) => {
      seen.push(seed);
      return text.replace('free', 'gratis');
    });
    expect(rounds.every((r) => r.strategy === 'llm-paraphrase' && r.variant === r.original.replace('free', 'gratis'))).toBe(true);
    expect(state.stats).toMatchObject({ rounds: 40, evasions: 40, paraphraseFallbacks: 0 });
    expect(seen.every((s) => Number.isInteger(s) && s >= 0)).toBe(true);
  });

  it.each<[string, Paraphrase | undefined]>([
    ['fails (null)', async () => null],
    ['throws, which it must not', async () => Promise.reject(new Error('boom'))],
    ['answers the text unchanged', async (text) => text],
    ['answers blank', async () => '  '],
    ['is missing', undefined],
  ])('plays the fallback strategy when the model %s, and the same rounds every time', async (_name, paraphrase) => {
    const first = await play(new BattleEngine(config(['llm-paraphrase', 'leetspeak'])), paraphrase);
    const again = await play(new BattleEngine(config(['llm-paraphrase', 'leetspeak'])), paraphrase);
    expect(first.rounds).toEqual(again.rounds);
    expect(first.rounds.some((r) => r.strategy === 'llm-paraphrase')).toBe(false);
    const fallbacks = first.rounds.filter((r) => r.strategy === PARAPHRASE_FALLBACK);
    expect(fallbacks.length).toBeGreaterThan(0);
    expect(fallbacks.every((r) => r.variant !== r.original)).toBe(true);
    expect(first.state.stats.paraphraseFallbacks).toBe(fallbacks.length);
    // The bandit learns nothing about paraphrasing from a model that did not answer.
    const arm = first.state.bandit.arms.find((a) => a.id === 'llm-paraphrase')!;
    expect(arm).toMatchObject({ evasions: 0, failures: 0, pending: 0 });
  });
});
