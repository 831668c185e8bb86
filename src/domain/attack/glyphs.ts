/**
 * Character tables of the character-level strategies.
 *
 * HOMOGLYPHS: every entry is a single code point from another script (Cyrillic, Greek, Armenian,
 * Cherokee, IPA) that Unicode's confusables.txt maps to the ASCII letter, so the hardened
 * normalization (foldConfusables) folds it back — a test checks every entry — while NFKC and
 * lowercasing, all the default featurizer does, leave it alone. Fullwidth forms are kept apart:
 * NFKC folds them, so they only beat featurizers without it and never count as the one homoglyph
 * a perturbed word must carry. Letters without a good lookalike (b, f, k, l, m, t) stay as they are.
 */
export const HOMOGLYPHS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  a: ['\u0430', '\u0251', '\u03b1'],
  c: ['\u0441'],
  d: ['\u0501'],
  e: ['\u0435'],
  g: ['\u0261'],
  h: ['\u04bb'],
  i: ['\u0456', '\u03b9', '\u0131'],
  j: ['\u0458', '\u03f3'],
  n: ['\u0578'],
  o: ['\u043e', '\u03bf', '\u0585'],
  p: ['\u0440', '\u03c1'],
  q: ['\u051b'],
  r: ['\u0433'],
  s: ['\u0455'],
  u: ['\u057d', '\u03c5'],
  v: ['\u03bd', '\u0475'],
  w: ['\u051d', '\u0461'],
  x: ['\u0445'],
  y: ['\u0443'],
  z: ['\u1d22'],
  A: ['\u0410', '\u0391'],
  B: ['\u0412', '\u0392'],
  C: ['\u0421'],
  D: ['\u13a0'],
  E: ['\u0415', '\u0395'],
  F: ['\u03dc'],
  G: ['\u050c'],
  H: ['\u041d', '\u0397'],
  I: ['\u0406', '\u0399'],
  J: ['\u0408'],
  K: ['\u041a', '\u039a'],
  L: ['\u13de'],
  M: ['\u041c', '\u039c'],
  N: ['\u039d'],
  O: ['\u041e', '\u039f'],
  P: ['\u0420', '\u03a1'],
  R: ['\u13a1'],
  S: ['\u0405'],
  T: ['\u0422', '\u03a4'],
  U: ['\u054d'],
  W: ['\u051c'],
  X: ['\u0425', '\u03a7'],
  Y: ['\u04ae', '\u03a5'],
  Z: ['\u0396'],
});

/** ASCII letter or digit → its fullwidth form (ｆ), or undefined. */
export function fullwidth(ch: string): string | undefined {
  const c = ch.charCodeAt(0);
  const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  return ch.length === 1 && alnum ? String.fromCharCode(c + 0xfee0) : undefined;
}

/** Leetspeak, keyed by lowercase letter. */
export const LEET: Readonly<Record<string, readonly string[]>> = Object.freeze({
  a: ['4', '@'],
  b: ['8'],
  e: ['3'],
  g: ['9'],
  i: ['1', '!'],
  l: ['1', '|'],
  o: ['0'],
  s: ['5', '$'],
  t: ['7'],
  z: ['2'],
});

/**
 * Zero-width characters: ZERO WIDTH SPACE, ZERO WIDTH NON-JOINER, ZERO WIDTH JOINER, WORD JOINER,
 * ZERO WIDTH NO-BREAK SPACE (BOM) and SOFT HYPHEN. All are Default_Ignorable_Code_Point, which
 * the hardened normalization strips; NFKC keeps every one of them.
 */
export const INVISIBLES: readonly string[] = Object.freeze(['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad']);

/** Separators of spaced-out letters ("f r e e", "f.r.e.e") and punctuation pushed into a word ("fr.ee"). */
export const SPACERS: readonly string[] = Object.freeze([' ', '.', '-', '_', '*', '\u00b7']);
export const INSERTED_PUNCTUATION: readonly string[] = Object.freeze(['.', '-', '*', '_', "'", '|', ',']);

/** Plain misspellings for words the lexicon does not know: a vowel becomes its lookalike digit. */
export const VOWEL_DIGITS: Readonly<Record<string, string>> = Object.freeze({ a: '4', e: '3', i: '1', o: '0' });
