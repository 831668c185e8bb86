/**
 * Query-based attacks (DeepWordBug / TextFooler style): which words make the defender call a text
 * harmful, measured by leave-one-out — score the text with each word removed, rank words by how
 * much the harmful score drops — and a greedy attack that perturbs the top words one at a time.
 * The scorer is injected (async, batched) so this stays pure; every text sent to it is a query,
 * counted against the caller's budget.
 */
import { mulberry32, type Rng } from '../model/rng.js';
import { lexiconSubstitutes } from './lexicon.js';
import { STRATEGIES, isEligibleWord, wordPerturber, type BlindStrategyId } from './strategies.js';
import { joinWords, splitWords, type Words } from './words.js';

/** Probability of the harmful label for each text, in order. */
export type Scorer = (texts: readonly string[]) => Promise<readonly number[]>;

export const DEFAULT_QUERY_BATCH = 64;

export interface ImportanceOptions {
  /** The most texts to send to the scorer, the text itself included. */
  readonly budget: number;
  /** Texts per scorer call. */
  readonly batchSize?: number;
  /** Samples the candidate words when a long text has more distinct words than the budget. */
  readonly rng?: Rng;
  /** The text's own score when the caller has it already: saves a query. */
  readonly baseScore?: number;
}

export interface WordImportance {
  /** The word, lowercased: all its occurrences are removed together. */
  readonly word: string;
  /** Its occurrences (word indices, see splitWords). */
  readonly indices: readonly number[];
  /** Harmful score of the text minus that of the text without the word: positive = the word looks harmful. */
  readonly drop: number;
}

export interface ImportanceResult {
  /** Score of the unchanged text; undefined when the budget was 0. */
  readonly baseScore: number | undefined;
  /** Words tried, largest drop first (ties: earlier word first). */
  readonly ranked: readonly WordImportance[];
  /** `ranked`'s occurrences flattened, most important first: what a strategy's `important` takes. */
  readonly indices: readonly number[];
  readonly queries: number;
  /** Distinct words in the text, and how many of them were tried. */
  readonly distinctWords: number;
  readonly candidates: number;
}

/** Words whose removal rarely matters; tried last when a long text has more words than the budget. */
const STOPWORDS = new Set(
  'a an and are as at be but by for from has have he her his i if in is it its me my no not of on or our she so that the their them they this to us was we were will with you your'.split(' '),
);

interface WordType {
  readonly word: string;
  readonly indices: number[];
}

function wordTypes(words: Words): WordType[] {
  const byWord = new Map<string, WordType>();
  for (let i = 0; i < words.words.length; i++) {
    const key = words.words[i]!.toLowerCase();
    let type = byWord.get(key);
    if (type === undefined) {
      type = { word: key, indices: [] };
      byWord.set(key, type);
    }
    type.indices.push(i);
  }
  return [...byWord.values()];
}

/** `k` of the types: known trigger words first, then a seeded sample of the non-stopwords, then stopwords. */
function candidateTypes(types: readonly WordType[], k: number, rng: Rng): WordType[] {
  if (types.length <= k) return [...types];
  const tiers: WordType[][] = [[], [], []];
  for (const t of types) tiers[lexiconSubstitutes(t.word) !== undefined ? 0 : STOPWORDS.has(t.word) || t.word.length < 2 ? 2 : 1]!.push(t);
  const chosen: WordType[] = [];
  for (const tier of tiers) {
    for (let i = 0; i < tier.length && chosen.length < k; i++) {
      const j = i + Math.floor(rng() * (tier.length - i));
      [tier[i], tier[j]] = [tier[j]!, tier[i]!];
      chosen.push(tier[i]!);
    }
  }
  // Back in text order, so the ranking's tie-break (earlier word first) is stable.
  return chosen.sort((a, b) => a.indices[0]! - b.indices[0]!);
}

async function scoreInBatches(texts: readonly string[], score: Scorer, batchSize: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < texts.length; i += batchSize) {
    const chunk = texts.slice(i, i + batchSize);
    const scores = await score(chunk);
    if (scores.length !== chunk.length) throw new Error(`scorer returned ${scores.length} scores for ${chunk.length} texts`);
    out.push(...scores);
  }
  return out;
}

const positiveInt = (n: number | undefined, fallback: number) => (n !== undefined && Number.isFinite(n) && n >= 1 ? Math.floor(n) : fallback);

export async function rankImportantWords(text: string, score: Scorer, options: ImportanceOptions): Promise<ImportanceResult> {
  const budget = Math.max(0, Math.floor(options.budget));
  const batchSize = positiveInt(options.batchSize, DEFAULT_QUERY_BATCH);
  const words = splitWords(text);
  const types = wordTypes(words);
  let queries = 0;
  let baseScore = options.baseScore;
  if (baseScore === undefined) {
    if (budget < 1) return { baseScore: undefined, ranked: [], indices: [], queries: 0, distinctWords: types.length, candidates: 0 };
    baseScore = (await scoreInBatches([text], score, 1))[0]!;
    queries++;
  }
  const candidates = candidateTypes(types, budget - queries, options.rng ?? mulberry32(0x1e4f));
  const removed = candidates.map((t) => joinWords(words, new Map(t.indices.map((i) => [i, '']))));
  const scores = await scoreInBatches(removed, score, batchSize);
  queries += removed.length;
  const ranked = candidates
    .map((t, k): WordImportance => ({ word: t.word, indices: t.indices, drop: baseScore - scores[k]! }))
    .sort((a, b) => b.drop - a.drop || a.indices[0]! - b.indices[0]!);
  return { baseScore, ranked, indices: ranked.flatMap((r) => r.indices), queries, distinctWords: types.length, candidates: candidates.length };
}

export interface GreedyOptions {
  /** The most texts to send to the scorer in all (ranking and steps). */
  readonly budget: number;
  /** Stop as soon as the harmful score is below this. */
  readonly threshold: number;
  /** The blind strategy that perturbs each chosen word. */
  readonly base?: BlindStrategyId;
  /** Share of the budget for the ranking (the rest scores the steps); default ½. */
  readonly rankingShare?: number;
  /** Texts per scorer call while ranking. */
  readonly batchSize?: number;
  /**
   * Steps scored per scorer call: with k > 1 the next k cumulative variants are scored together
   * and the first one under the threshold wins (fewer round trips, up to k − 1 queries more).
   */
  readonly stepBatch?: number;
  readonly baseScore?: number;
}

export interface GreedyResult {
  readonly variant: string;
  /** Harmful score of `variant`; undefined when no query was left to score it. */
  readonly score: number | undefined;
  readonly originalScore: number | undefined;
  /** `score` is known and below the threshold. */
  readonly evaded: boolean;
  readonly queries: number;
  /** Word indices perturbed, in the order they were. */
  readonly perturbed: readonly number[];
  /** The importance ranking's word indices, most important first. */
  readonly important: readonly number[];
}

export const DEFAULT_GREEDY_BASE: BlindStrategyId = 'homoglyphs';

export async function greedyAttack(text: string, score: Scorer, rng: Rng, options: GreedyOptions): Promise<GreedyResult> {
  const budget = Math.max(0, Math.floor(options.budget));
  const base = options.base ?? DEFAULT_GREEDY_BASE;
  const share = options.rankingShare !== undefined && options.rankingShare > 0 && options.rankingShare <= 1 ? options.rankingShare : 0.5;
  const words = splitWords(text);
  const ranking = await rankImportantWords(text, score, {
    budget: Math.max(budget > 0 ? 1 : 0, Math.floor(budget * share)),
    batchSize: options.batchSize,
    rng,
    baseScore: options.baseScore,
  });
  let queries = ranking.queries;

  // Steps: the ranked words, biggest drop first, then the words the ranking could not try.
  const order: number[][] = ranking.ranked.map((r) => r.indices.filter((i) => isEligibleWord(base, words.words[i]!)));
  const tried = new Set(ranking.indices);
  const rest = new Map<string, number[]>();
  for (let i = 0; i < words.words.length; i++) {
    if (tried.has(i) || !isEligibleWord(base, words.words[i]!)) continue;
    const key = words.words[i]!.toLowerCase();
    const list = rest.get(key);
    if (list === undefined) rest.set(key, [i]);
    else list.push(i);
  }
  order.push(...rest.values());
  const steps = order.filter((s) => s.length > 0);

  const stepBudget = budget - queries;
  if (stepBudget <= 0 || steps.length === 0) {
    // Nothing left to measure with: a blind perturbation, steered by whatever ranking there is.
    const variant = steps.length === 0 ? text : STRATEGIES[base](text, rng, { important: ranking.indices });
    const score = variant === text ? ranking.baseScore : undefined;
    return result(variant, score, ranking.baseScore, options.threshold, queries, [], ranking.indices);
  }

  const perturb = wordPerturber(base, rng);
  const replacements = new Map<number, string>();
  const perturbed: number[] = [];
  const stepBatch = positiveInt(options.stepBatch, 1);
  let variant = text;
  let variantScore: number | undefined = ranking.baseScore;
  for (let next = 0; next < steps.length && queries < budget; ) {
    const k = Math.min(stepBatch, steps.length - next, budget - queries);
    const variants: string[] = [];
    const sizes: number[] = [];
    for (let j = 0; j < k; j++) {
      for (const i of steps[next + j]!) {
        replacements.set(i, perturb(words.words[i]!, rng));
        perturbed.push(i);
      }
      variants.push(joinWords(words, replacements));
      sizes.push(perturbed.length);
    }
    const scores = await scoreInBatches(variants, score, k);
    queries += k;
    const hit = scores.findIndex((s) => s < options.threshold);
    const j = hit >= 0 ? hit : k - 1;
    variant = variants[j]!;
    variantScore = scores[j]!;
    if (hit >= 0) {
      perturbed.length = sizes[j]!;
      break;
    }
    next += k;
  }
  return result(variant, variantScore, ranking.baseScore, options.threshold, queries, perturbed, ranking.indices);
}

function result(
  variant: string,
  score: number | undefined,
  originalScore: number | undefined,
  threshold: number,
  queries: number,
  perturbed: readonly number[],
  important: readonly number[],
): GreedyResult {
  return { variant, score, originalScore, evaded: score !== undefined && score < threshold, queries, perturbed, important };
}
