/**
 * fastText-style hashed features ("Bag of Tricks", Joulin et al.): word n-grams plus character
 * n-grams of every word, each hashed with 32-bit FNV-1a into a fixed number of buckets.
 *
 * Exact definition (a stored model depends on it; change it only with a new spec version):
 *  - text → normalizeText(text, spec.normalization) → cut after spec.maxChars UTF-16 code units
 *    (never between the halves of a surrogate pair); normalization itself stops at 16 × maxChars
 *    code units after removing invisible characters, which bounds its cost and changes nothing
 *    but for a single word longer than that;
 *  - tokens: maximal runs of code points with General_Category L*, N* or M* (letters, digits,
 *    combining marks: decomposed accents and Indic vowel signs stay inside their word);
 *  - word n-gram (n in wordNgrams): FNV-1a over the byte 0x01, then the UTF-8 bytes of the n tokens
 *    joined by one 0x20 byte;
 *  - char n-gram (n in charNgrams): FNV-1a over the byte 0x02, then the UTF-8 bytes of n consecutive
 *    code points of "<" + token + ">" (the lone markers "<" and ">" are skipped when n = 1).
 *    The prefix bytes make a word and a character n-gram distinct byte strings, so they collide only
 *    through the modulo, never by construction; and as tokens hold no 0x20, "<" or ">", a unigram
 *    never equals a bigram and the markers never come from the text itself;
 *  - id = hash mod buckets (buckets is a power of two: hash & (buckets − 1));
 *  - repeated ids merge into (id, count), in order of first occurrence, and weight = count / total,
 *    so that Σ weight · embedding[id] is the mean of the n-gram embeddings.
 *
 * The hashing walks code points and feeds their UTF-8 bytes straight into FNV-1a: no n-gram string
 * is ever built, and all scratch buffers are reused between calls (the module is not re-entrant,
 * which JavaScript's single thread makes safe).
 */
import type { FeaturizerSpec } from './featurizer-spec.js';
import { cutText, normalizeText } from './normalize.js';

/** One text's features: distinct bucket ids and their weights (which sum to 1, or are empty). */
export interface Features {
  readonly ids: Int32Array;
  readonly weights: Float32Array;
}

/**
 * A padded batch in the layout the exported ONNX graph takes: row-major [batch, length]; padding
 * has id 0 and weight 0 (bucket 0 is a valid id, but a zero weight makes it contribute nothing).
 */
export interface FeatureBatch<Ids extends BigInt64Array | Int32Array = BigInt64Array> {
  readonly ids: Ids;
  readonly weights: Float32Array;
  readonly batch: number;
  /** Columns per row: the longest row's feature count, at least 1 (ONNX dislikes empty tensors). */
  readonly length: number;
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;
const WORD_PREFIX = 0x01;
const CHAR_PREFIX = 0x02;
const WORD_JOINER = 0x20;
const BOW = 0x3c; // '<'
const EOW = 0x3e; // '>'
/** FNV-1a state after the kind prefix byte: every n-gram of a kind starts from it. */
const WORD_SEED = Math.imul(FNV_OFFSET ^ WORD_PREFIX, FNV_PRIME);
const CHAR_SEED = Math.imul(FNV_OFFSET ^ CHAR_PREFIX, FNV_PRIME);

/** Feeds the UTF-8 encoding of one code point into an FNV-1a state. */
function fnvCodePoint(h: number, cp: number): number {
  if (cp < 0x80) return Math.imul(h ^ cp, FNV_PRIME);
  if (cp < 0x800) {
    h = Math.imul(h ^ (0xc0 | (cp >>> 6)), FNV_PRIME);
  } else {
    if (cp < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (cp >>> 12)), FNV_PRIME);
    } else {
      h = Math.imul(h ^ (0xf0 | (cp >>> 18)), FNV_PRIME);
      h = Math.imul(h ^ (0x80 | ((cp >>> 12) & 0x3f)), FNV_PRIME);
    }
    h = Math.imul(h ^ (0x80 | ((cp >>> 6) & 0x3f)), FNV_PRIME);
  }
  return Math.imul(h ^ (0x80 | (cp & 0x3f)), FNV_PRIME);
}

// ------------------------------------------------------------------ token characters

const WORD_CHAR = /^[\p{L}\p{N}\p{M}]$/u;
/** ASCII and BMP classification cache: 0 unknown, 1 word character, 2 separator. */
const bmpClass = new Uint8Array(0x10000);
for (let c = 0; c < 0x80; c++) {
  bmpClass[c] = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ? 1 : 2;
}
// Surrogates never reach the classifier as code points of a pair; a lone one is a separator.
bmpClass.fill(2, 0xd800, 0xe000);
const astralClass = new Map<number, boolean>();

function isWordChar(cp: number): boolean {
  if (cp < 0x10000) {
    let k = bmpClass[cp]!;
    if (k === 0) {
      k = WORD_CHAR.test(String.fromCharCode(cp)) ? 1 : 2;
      bmpClass[cp] = k;
    }
    return k === 1;
  }
  let w = astralClass.get(cp);
  if (w === undefined) {
    w = WORD_CHAR.test(String.fromCodePoint(cp));
    astralClass.set(cp, w);
  }
  return w;
}

// ------------------------------------------------------------------ reusable scratch

/** Code points of all tokens with their boundary markers, back to back. */
let cps = new Int32Array(4096);
/** Token i spans cps[tokStart[i] .. tokStart[i + 1]), markers included. */
let tokStart = new Int32Array(1024);
/** Raw (unmerged) bucket ids in order of occurrence. */
let raw = new Int32Array(16384);
/** Open-addressing table for merging, slot i = [stamp of the call that filled it, id, position in `uniq`, unused]. */
let slots = new Int32Array(0);
let stamp = 0;
let uniq = new Int32Array(16384);
let counts = new Int32Array(16384);

function grow(a: Int32Array, need: number): Int32Array<ArrayBuffer> {
  let size = Math.max(a.length, 16);
  while (size < need) size *= 2;
  const b = new Int32Array(size);
  b.set(a);
  return b;
}

/**
 * Splits into tokens, filling `cps` and `tokStart`; returns the token count. Each token is stored
 * with its boundary markers: cps[tokStart[t]] is "<", cps[tokStart[t + 1] − 1] is ">".
 */
function tokenize(s: string): number {
  const n = s.length;
  // At most n code points plus two markers per token (at most n / 2 + 1 tokens).
  if (cps.length < 2 * n + 2) cps = grow(cps, 2 * n + 2);
  const buf = cps;
  let ncp = 0;
  let ntok = 0;
  let inToken = false;
  for (let i = 0; i < n; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp < 0xdc00 && i + 1 < n) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    const word = cp < 0x80 ? bmpClass[cp] === 1 : isWordChar(cp);
    if (word) {
      if (!inToken) {
        if (ntok + 2 > tokStart.length) tokStart = grow(tokStart, ntok + 2);
        tokStart[ntok++] = ncp;
        buf[ncp++] = BOW;
        inToken = true;
      }
      buf[ncp++] = cp;
    } else if (inToken) {
      buf[ncp++] = EOW;
      inToken = false;
    }
  }
  if (inToken) buf[ncp++] = EOW;
  tokStart[ntok] = ncp;
  return ntok;
}

/** Hashes every n-gram of the tokens into `raw`; returns how many were written. */
function hashNgrams(ntok: number, spec: FeaturizerSpec): number {
  const mask = spec.buckets - 1;
  const { min: wMin, max: wMax } = spec.wordNgrams;
  const { min: cMin, max: cMax } = spec.charNgrams;
  // Upper bound on the n-gram count (tokStart[ntok] counts code points plus markers).
  const bound = (wMax > 0 ? ntok * (wMax - wMin + 1) : 0) + (cMax > 0 ? tokStart[ntok]! * (cMax - cMin + 1) : 0);
  if (raw.length < bound) raw = grow(raw, bound);
  const out = raw;
  const cp = cps;
  let k = 0;

  if (wMax > 0) {
    for (let i = 0; i < ntok; i++) {
      let h = WORD_SEED;
      const last = Math.min(ntok, i + wMax);
      for (let t = i; t < last; t++) {
        if (t > i) h = Math.imul(h ^ WORD_JOINER, FNV_PRIME);
        // Skip the markers: a word n-gram hashes the bare tokens.
        const end = tokStart[t + 1]! - 1;
        for (let j = tokStart[t]! + 1; j < end; j++) {
          const c = cp[j]!;
          h = c < 0x80 ? Math.imul(h ^ c, FNV_PRIME) : fnvCodePoint(h, c);
        }
        if (t - i + 1 >= wMin) out[k++] = h & mask;
      }
    }
  }

  if (cMax > 0) {
    for (let t = 0; t < ntok; t++) {
      const start = tokStart[t]!;
      const end = tokStart[t + 1]!;
      for (let i = start; i < end; i++) {
        let h = CHAR_SEED;
        const last = Math.min(end, i + cMax);
        // The first position whose n-gram is emitted; a lone "<" or ">" never is.
        const first = cMin === 1 && (i === start || i === end - 1) ? i + 1 : i + cMin - 1;
        for (let j = i; j < last; j++) {
          const c = cp[j]!;
          h = c < 0x80 ? Math.imul(h ^ c, FNV_PRIME) : fnvCodePoint(h, c);
          if (j >= first) out[k++] = h & mask;
        }
      }
    }
  }
  return k;
}

/**
 * Merges repeated ids (first-occurrence order) into `uniq`/`counts`; returns the distinct count.
 * Open addressing with linear probing over one interleaved array, slot = [stamp, id, position in
 * `uniq`, unused]: a slot is live only if its stamp is the current call's, so the table is never
 * cleared, and one probe touches one cache line. The table doubles at half load. (An array
 * indexed by id — 4 MiB for 2^20 buckets — measured no faster on long texts and slower on short
 * ones, where its scattered cache lines are cold.)
 */
function merge(k: number): number {
  if (uniq.length < k) {
    uniq = grow(uniq, k);
    counts = grow(counts, k);
  }
  // Sized for every id distinct up to 16k ids (a 4000-character text makes ~9–12k), 512 KiB at most.
  let cap = 1024;
  while (cap < 2 * k && cap < 32768) cap *= 2;
  ensureTable(cap);
  const u = uniq;
  const cnt = counts;
  const ids = raw;
  let table = slots;
  let cur = stamp;
  let smask = cap - 1;
  let shift = 32 - Math.log2(cap);
  let m = 0;
  for (let r = 0; r < k; r++) {
    const id = ids[r]!;
    let s = Math.imul(id, 0x9e3779b1) >>> shift;
    for (;;) {
      const at = s << 2;
      if (table[at] !== cur) {
        table[at] = cur;
        table[at + 1] = id;
        table[at + 2] = m;
        u[m] = id;
        cnt[m++] = 1;
        if (2 * m > cap) {
          // Double and re-insert everything seen so far.
          cap *= 2;
          ensureTable(cap);
          table = slots;
          cur = stamp;
          smask = cap - 1;
          shift = 32 - Math.log2(cap);
          for (let p = 0; p < m; p++) {
            let t = Math.imul(u[p]!, 0x9e3779b1) >>> shift;
            while (table[t << 2] === cur) t = (t + 1) & smask;
            table[t << 2] = cur;
            table[(t << 2) + 1] = u[p]!;
            table[(t << 2) + 2] = p;
          }
        }
        break;
      }
      if (table[at + 1] === id) {
        cnt[table[at + 2]!]!++;
        break;
      }
      s = (s + 1) & smask;
    }
  }
  return m;
}

/** Makes `slots` hold at least `cap` slots and starts a new stamp (which empties every slot). */
function ensureTable(cap: number): void {
  if (slots.length < 4 * cap) {
    slots = new Int32Array(4 * cap);
    stamp = 0;
  }
  if (++stamp === 0x7fffffff) {
    slots.fill(0);
    stamp = 1;
  }
}

/**
 * normalizeText may stop after PRE_CUT × maxChars code units (invisible characters removed first):
 * a 1 MB message costs no more than a 64 kB one, and the kept prefix is the same (see normalizeText).
 */
const PRE_CUT = 16;

/** Features of one text under `spec`. An empty (or letterless) text yields empty arrays. */
export function featurize(text: string, spec: FeaturizerSpec): Features {
  const normalized = cutText(normalizeText(text, spec.normalization, PRE_CUT * spec.maxChars), spec.maxChars);
  const ntok = tokenize(normalized);
  const k = ntok === 0 ? 0 : hashNgrams(ntok, spec);
  if (k === 0) return { ids: new Int32Array(0), weights: new Float32Array(0) };
  const m = merge(k);
  const ids = uniq.slice(0, m);
  const weights = new Float32Array(m);
  for (let i = 0; i < m; i++) weights[i] = counts[i]! / k;
  return { ids, weights };
}

export interface FeaturizeBatchOptions<T extends 'int64' | 'int32'> {
  /** `int64` (default) is what the ONNX graph's Gather takes; `int32` suits a JavaScript consumer. */
  readonly idType: T;
}

// Node.js runs on little-endian hosts in practice; the fast int64 fill below relies on it.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Features of many texts, padded to a rectangle [batch, length] (see FeatureBatch). */
export function featurizeBatch(texts: readonly string[], spec: FeaturizerSpec): FeatureBatch<BigInt64Array>;
export function featurizeBatch(
  texts: readonly string[],
  spec: FeaturizerSpec,
  options: FeaturizeBatchOptions<'int64'>,
): FeatureBatch<BigInt64Array>;
export function featurizeBatch(
  texts: readonly string[],
  spec: FeaturizerSpec,
  options: FeaturizeBatchOptions<'int32'>,
): FeatureBatch<Int32Array>;
export function featurizeBatch(
  texts: readonly string[],
  spec: FeaturizerSpec,
  options?: FeaturizeBatchOptions<'int64' | 'int32'>,
): FeatureBatch<BigInt64Array> | FeatureBatch<Int32Array> {
  return pack(
    texts.map((t) => featurize(t, spec)),
    options?.idType ?? 'int64',
  );
}

/** A rectangle of some of the texts given to featurizeChunks: `rows[b]` is the index of row b's text. */
export interface FeatureChunk extends FeatureBatch<BigInt64Array> {
  readonly rows: readonly number[];
}

/** Padding a chunk may add, as a share of its cells, before its rows are split off. */
const MAX_PADDING_SHARE = 0.25;
/** A chunk this small is never split: a call per chunk costs more than its padding. */
const SMALL_CHUNK_CELLS = 8192;

/**
 * Features of many texts as a few rectangles of texts of similar feature counts. One rectangle for
 * a batch that mixes a tweet and a 20 kB e-mail pads every row to the e-mail's width, and the
 * model (and the allocator) work through all of it: here texts are taken shortest first and a new
 * chunk starts when padding would pass a quarter of the cells. Every text is in exactly one chunk.
 */
export function featurizeChunks(texts: readonly string[], spec: FeaturizerSpec): FeatureChunk[] {
  const features = texts.map((t) => featurize(t, spec));
  const order = features.map((_, i) => i).sort((a, b) => features[a]!.ids.length - features[b]!.ids.length);
  const chunks: FeatureChunk[] = [];
  let rows: number[] = [];
  let cells = 0;
  const flush = () => {
    if (rows.length === 0) return;
    chunks.push({ ...pack(rows.map((i) => features[i]!), 'int64'), rows });
    rows = [];
    cells = 0;
  };
  for (const i of order) {
    const width = Math.max(1, features[i]!.ids.length);
    const padded = (rows.length + 1) * width;
    if (rows.length > 0 && padded > SMALL_CHUNK_CELLS && padded - (cells + width) > MAX_PADDING_SHARE * padded) flush();
    rows.push(i);
    cells += width;
  }
  flush();
  return chunks;
}

function pack(rows: readonly Features[], idType: 'int64'): FeatureBatch<BigInt64Array>;
function pack(rows: readonly Features[], idType: 'int64' | 'int32'): FeatureBatch<BigInt64Array> | FeatureBatch<Int32Array>;
function pack(rows: readonly Features[], idType: 'int64' | 'int32'): FeatureBatch<BigInt64Array> | FeatureBatch<Int32Array> {
  const batch = rows.length;
  let length = 1;
  for (const r of rows) if (r.ids.length > length) length = r.ids.length;
  const weights = new Float32Array(batch * length);
  for (let b = 0; b < batch; b++) weights.set(rows[b]!.weights, b * length);

  if (idType === 'int32') {
    const ids = new Int32Array(batch * length);
    for (let b = 0; b < batch; b++) ids.set(rows[b]!.ids, b * length);
    return { ids, weights, batch, length };
  }
  const ids = new BigInt64Array(batch * length);
  if (LITTLE_ENDIAN) {
    // Ids are non-negative int32: write the low halves of the int64s, the high halves stay 0.
    const halves = new Int32Array(ids.buffer);
    for (let b = 0; b < batch; b++) {
      const row = rows[b]!.ids;
      const base = 2 * b * length;
      for (let i = 0; i < row.length; i++) halves[base + 2 * i] = row[i]!;
    }
  } else {
    for (let b = 0; b < batch; b++) {
      const row = rows[b]!.ids;
      for (let i = 0; i < row.length; i++) ids[b * length + i] = BigInt(row[i]!);
    }
  }
  return { ids, weights, batch, length };
}
