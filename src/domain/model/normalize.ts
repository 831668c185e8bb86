/**
 * Text normalization in front of the featurizer. Attackers dodge a bag-of-n-grams classifier by
 * making the same message produce different n-grams: compatibility forms (ｆｒｅｅ, 𝐟𝐫𝐞𝐞),
 * homoglyphs from other scripts (Cyrillic "frее"), invisible characters inside words (fr\u200Bee)
 * and spaced-out letters (f r e e). Each step below undoes one of those, behind its own flag, so the
 * plain spec stays a plain fastText featurizer. Everything here is pure and deterministic for a given
 * Node.js (ICU / Unicode) version and the pinned `unhomoglyph` data.
 */
import confusablesData from 'unhomoglyph/data.json' with { type: 'json' };
import type { NormalizationSpec } from './featurizer-spec.js';

/**
 * Unicode's Default_Ignorable_Code_Point property is exactly "characters that render as nothing":
 * zero-width space / (non-)joiner, word joiner, BOM, soft hyphen, bidi embeddings / overrides /
 * isolates and marks, variation selectors (incl. the supplement), tag characters, the combining
 * grapheme joiner, Hangul fillers, Mongolian free variation selectors, invisible operators, etc.
 * Using the property instead of a hand list keeps up with new Unicode versions.
 * Note: ZWJ/ZWNJ carry meaning in Persian and Indic shaping and in emoji sequences; dropping them
 * changes rendering but not the letters, which is all a bag of n-grams looks at.
 */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}+/gu;

/**
 * Spaced-out letters: a run of at least three single letters (or digits), each separated from the
 * next by one and the same space or punctuation/symbol character — "f r e e", "f.r.e.e", "f-r-e-e"
 * — and not glued to a longer word on either side. A change of separator ends the run
 * ("f.r.e.e c-a-s-h" → "free cash"), and so does a gap of two or more whitespace characters, the
 * spacer's word boundary, which becomes one space ("f r e e  m o n e y" → "free money"). Runs of
 * one or two letters ("a b", "I a") are left alone: those are ordinary words. Single-space runs
 * with no wider gap ("f r e e m o n e y") cannot be split and become one word.
 */
const SPACED_LETTERS =
  /(?<![\p{L}\p{N}\p{M}])[\p{L}\p{N}]\p{M}*([\s\p{P}\p{S}])[\p{L}\p{N}]\p{M}*(?:\1[\p{L}\p{N}]\p{M}*)+(?![\p{L}\p{N}\p{M}])(\s{2,}(?=[\p{L}\p{N}]))?/gu;
const NOT_LETTER = /[^\p{L}\p{N}\p{M}]/gu;

const NON_ASCII = /[\u0080-\u{10ffff}]/u;

/**
 * Applies the enabled steps in a fixed order: strip invisible → NFKC → fold confusables → lowercase
 * → fold again (lowercasing can produce a foldable letter) → join spaced letters. Invisible
 * characters go first so they neither block NFKC compositions nor split a spaced-out run.
 *
 * `maxLength` bounds the cost for callers that keep only a prefix of the result (the featurizer
 * keeps maxChars): once invisible characters are gone, the text is cut to `maxLength` code units
 * before the other steps. Those steps shrink text by a small factor at most (NFKC composition,
 * joining "f r e e"), so with a generous `maxLength` the kept prefix is unaffected — unless a
 * single word is longer than `maxLength`, whose folding decision might then differ.
 */
export function normalizeText(text: string, normalization: NormalizationSpec, maxLength = Infinity): string {
  let s = text;
  if (normalization.stripInvisible && NON_ASCII.test(s)) s = s.replace(INVISIBLE, '');
  s = cutText(s, maxLength);
  // Pure ASCII cannot contain compatibility or confusable characters: skip those passes.
  const ascii = !NON_ASCII.test(s);
  if (!ascii) {
    if (normalization.nfkc) s = s.normalize('NFKC');
    if (normalization.foldConfusables) s = foldConfusables(s);
  }
  if (normalization.lowercase) {
    s = s.toLowerCase();
    if (!ascii && normalization.foldConfusables) s = foldConfusables(s);
  }
  if (normalization.joinSpacedLetters) s = joinSpacedLetters(s);
  return s;
}

/** The first `maxLength` UTF-16 code units of `s`, one fewer rather than half a surrogate pair. */
export function cutText(s: string, maxLength: number): string {
  if (s.length <= maxLength) return s;
  const last = s.charCodeAt(maxLength - 1);
  return s.slice(0, last >= 0xd800 && last < 0xdc00 ? maxLength - 1 : maxLength);
}

/** "f r e e  m o n e y" → "free money"; see SPACED_LETTERS. */
export function joinSpacedLetters(text: string): string {
  return text.replace(SPACED_LETTERS, (run: string, _separator: string, gap: string | undefined) => {
    const letters = (gap === undefined ? run : run.slice(0, run.length - gap.length)).replace(NOT_LETTER, '');
    return gap === undefined ? letters : `${letters} `;
  });
}

// ---------------------------------------------------------------------------------------------
// Confusable folding
//
// Data: the `unhomoglyph` package ships Unicode's confusables.txt (UTS #39 "Recommended confusable
// mapping for IDN", v13.0.0, 6,311 single-code-point sources) as JSON. UTS #39 defines a skeleton
// for *comparing* strings, which is not quite what a classifier wants, so it is adapted:
//  - ASCII is never remapped. The skeleton maps m → rn, I/1/| → l, 0 → O so that lookalikes
//    compare equal; applied to ordinary text that would garble every word.
//  - Only ASCII prototypes (plus combining marks) are kept: 2,161 of the 6,303 non-ASCII entries.
//    An attacker's homoglyph imitates ASCII text; mappings to other lookalikes (Cyrillic и → Latin
//    small capital ᴎ, Hiragana く → ❬) catch no attack and only scramble those scripts.
//  - A character with a compatibility decomposition takes its NFKC form first (𝐦 → m, ſ → s,
//    Ⓒ → C), even when the nfkc flag is off: the compatibility mapping knows the intended letter,
//    where the skeleton only knows the look (𝐦 → rn).
//  - A precomposed character is folded through its canonical decomposition and recomposed
//    (Cyrillic ё → е + ◌̈ → e + ◌̈ → ë), as the skeleton's NFD step does.
//  - The skeleton's own ASCII prototypes are turned back into the letter a reader sees: a target
//    "l" becomes "I" for an uppercase source (Greek Ι, Cyrillic І) and "1" for a digit (Arabic-Indic
//    ١); a target "O" becomes "0" for a digit (Bengali ০); a target "rn" becomes "m".
//  - Words are folded whole or not at all (UTS #39 §5, mixed-script and whole-script confusables):
//    a word is left as it is when it has a letter or digit that stays non-Latin after folding
//    (Russian "мир": и has no ASCII lookalike) and no Latin letter; otherwise every character is
//    folded (mixed "Ϝrее" → "Free", whole-script lookalike "рау" → "pay"). So genuine Greek or
//    Russian words keep their form in any letter case, and the same word always folds the same way.
//    Characters outside words (symbols, punctuation) always fold.
// Limitations: single code points only (no multi-character sequences); Unicode 13 data (newer
// lookalikes are not folded); real words made only of ASCII-lookalike letters (Russian "сор",
// "орех") fold to Latin — consistently at training and serving, so they only share n-grams with
// Latin lookalikes; homoglyph attacks on non-Latin text and leetspeak (fr33) are out of scope.
// ---------------------------------------------------------------------------------------------

const ASCII_PROTOTYPE = /^[\x20-\x7e\p{Mn}]+$/u;
const LATIN_OR_NEUTRAL = /^[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]*$/u;
const LATIN_LETTER = /^\p{Script=Latin}/u;
const LETTER_OR_DIGIT = /^[\p{L}\p{N}]/u;
const WORD_CHAR = /^[\p{L}\p{N}\p{M}]/u;
const UPPERCASE = /^[\p{Lu}\p{Lt}]/u;
const NUMBER = /^\p{N}/u;

let confusables: Map<number, string> | undefined;

function confusableTable(): Map<number, string> {
  if (confusables !== undefined) return confusables;
  const table = new Map<number, string>();
  for (const [source, target] of Object.entries(confusablesData as Readonly<Record<string, string>>)) {
    const cp = source.codePointAt(0)!;
    if (cp < 0x80 || source.length > (cp > 0xffff ? 2 : 1)) continue;
    if (!ASCII_PROTOTYPE.test(target)) continue;
    table.set(cp, readablePrototype(source, target));
  }
  confusables = table;
  return table;
}

function readablePrototype(source: string, target: string): string {
  if (target === 'l') return UPPERCASE.test(source) ? 'I' : NUMBER.test(source) ? '1' : 'l';
  if (target === 'O') return NUMBER.test(source) ? '0' : 'O';
  if (target.startsWith('rn')) return `m${target.slice(2)}`.normalize('NFC');
  if (target === "''") return '"';
  return target.normalize('NFC');
}

/** What folding knows about one non-ASCII code point. */
interface FoldInfo {
  /** Its folded form. */
  readonly folded: string;
  /** Part of a word (letter, digit, combining mark)? */
  readonly word: boolean;
  /** A Latin-script letter (fullwidth Ｆ, ɑ, ſ …): makes its word Latin. */
  readonly latin: boolean;
  /** A letter or digit that stays non-Latin after folding (и, п, ٢): makes its word foreign. */
  readonly foreign: boolean;
}

/** Memoized per code point: texts repeat the same few characters. */
const infos = new Map<number, FoldInfo>();

function infoOf(cp: number): FoldInfo {
  let info = infos.get(cp);
  if (info === undefined) {
    const ch = String.fromCodePoint(cp);
    const folded = foldCodePoint(ch, 0);
    info = {
      folded,
      word: WORD_CHAR.test(ch),
      latin: LATIN_LETTER.test(ch) && LETTER_OR_DIGIT.test(ch),
      foreign: LETTER_OR_DIGIT.test(ch) && !LATIN_OR_NEUTRAL.test(folded),
    };
    infos.set(cp, info);
  }
  return info;
}

function foldCodePoint(ch: string, depth: number): string {
  const compat = ch.normalize('NFKC');
  if (compat !== ch && depth < 4) return foldEach(compat, depth + 1);
  const decomposed = ch.normalize('NFD');
  if (decomposed !== ch && depth < 4) return foldEach(decomposed, depth + 1).normalize('NFC');
  return confusableTable().get(ch.codePointAt(0)!) ?? ch;
}

/** Character-by-character folding without the word rule (for a code point's own decomposition). */
function foldEach(s: string, depth: number): string {
  let out = '';
  for (const ch of s) out += ch.charCodeAt(0) < 0x80 ? ch : foldCodePoint(ch, depth);
  return out;
}

/** Maps homoglyphs to their ASCII prototype ("Ϝrее" with Cyrillic е → "Free"); see above. */
export function foldConfusables(text: string): string {
  let out = '';
  // text[copied ..] has not been written to `out` yet.
  let copied = 0;
  // The current word: text[wordStart .. i), whether it holds a Latin letter, a foreign character,
  // and a character that folding changes.
  let wordStart = -1;
  let latin = false;
  let foreign = false;
  let changes = false;

  const endWord = (end: number) => {
    if (changes && (latin || !foreign)) {
      out += text.slice(copied, wordStart);
      for (let j = wordStart; j < end; ) {
        const c = text.charCodeAt(j);
        if (c < 0x80) {
          out += text[j];
          j++;
        } else {
          const cp = text.codePointAt(j)!;
          out += isLoneSurrogate(c, cp) ? text[j] : infoOf(cp).folded;
          j += cp > 0xffff ? 2 : 1;
        }
      }
      copied = end;
    }
    wordStart = -1;
    latin = foreign = changes = false;
  };

  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      const letter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
      if (letter || (c >= 0x30 && c <= 0x39)) {
        if (wordStart < 0) wordStart = i;
        if (letter) latin = true;
      } else if (wordStart >= 0) {
        endWord(i);
      }
      i++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (isLoneSurrogate(c, cp)) {
      if (wordStart >= 0) endWord(i);
    } else {
      const info = infoOf(cp);
      const same = info.folded.length === width && info.folded.codePointAt(0) === cp;
      if (info.word) {
        if (wordStart < 0) wordStart = i;
        latin ||= info.latin;
        foreign ||= info.foreign;
        changes ||= !same;
      } else {
        if (wordStart >= 0) endWord(i);
        if (!same) {
          out += text.slice(copied, i) + info.folded;
          copied = i + width;
        }
      }
    }
    i += width;
  }
  if (wordStart >= 0) endWord(text.length);
  return copied === 0 ? text : out + text.slice(copied);
}

function isLoneSurrogate(c: number, cp: number): boolean {
  return c >= 0xd800 && c <= 0xdfff && cp <= 0xffff;
}
