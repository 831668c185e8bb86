import { describe, expect, it } from 'vitest';
import {
  foldConfusables,
  HARDENED_FEATURIZER_SPEC,
  joinSpacedLetters,
  normalizeText,
  type NormalizationSpec,
} from '../../../src/domain/model/index.js';

const OFF: NormalizationSpec = { nfkc: false, lowercase: false, foldConfusables: false, stripInvisible: false, joinSpacedLetters: false };
const only = (flag: keyof NormalizationSpec): NormalizationSpec => ({ ...OFF, [flag]: true });
const ALL = HARDENED_FEATURIZER_SPEC.normalization;

// Written with escapes so the test says exactly which code points it feeds in.
const CYR_E = '\u0435'; // Cyrillic е
const CYR_A = '\u0430'; // Cyrillic а
const GREEK_DIGAMMA = '\u03dc'; // Ϝ
const GREEK_OMICRON = '\u03bf'; // ο
const ZWSP = '\u200b';
const ZWJ = '\u200d';
const SHY = '\u00ad';
const RLO = '\u202e';
const PDF = '\u202c';
const VS16 = '\ufe0f';
const TAG_A = '\u{e0061}';
const FULLWIDTH_FREE = '\uff26\uff32\uff25\uff25'; // ＦＲＥＥ
const MATH_BOLD_MONEY = '\u{1d426}\u{1d428}\u{1d427}\u{1d41e}\u{1d432}'; // 𝐦𝐨𝐧𝐞𝐲

describe('normalizeText: each flag alone', () => {
  it.each<[string, NormalizationSpec, string, string]>([
    ['all off is the identity', OFF, `Ϝr${CYR_E}${CYR_E} ${ZWSP}f r e e ${FULLWIDTH_FREE}`, `Ϝr${CYR_E}${CYR_E} ${ZWSP}f r e e ${FULLWIDTH_FREE}`],
    ['nfkc folds fullwidth', only('nfkc'), FULLWIDTH_FREE, 'FREE'],
    ['nfkc folds math bold', only('nfkc'), MATH_BOLD_MONEY, 'money'],
    ['nfkc expands ligatures', only('nfkc'), '\ufb01le', 'file'],
    ['nfkc keeps Cyrillic', only('nfkc'), `fr${CYR_E}${CYR_E}`, `fr${CYR_E}${CYR_E}`],
    ['lowercase', only('lowercase'), 'FrEE MONEY', 'free money'],
    ['lowercase keeps fullwidth fullwidth', only('lowercase'), FULLWIDTH_FREE, '\uff46\uff52\uff45\uff45'],
    ['fold: Greek digamma and Cyrillic е', only('foldConfusables'), `${GREEK_DIGAMMA}r${CYR_E}${CYR_E}`, 'Free'],
    ['fold: Greek omicron, Cyrillic а', only('foldConfusables'), `m${GREEK_OMICRON}n${CYR_E}y ${CYR_A}pp`, 'money app'],
    ['fold: fullwidth and math without nfkc', only('foldConfusables'), `${FULLWIDTH_FREE} ${MATH_BOLD_MONEY}`, 'FREE money'],
    ['fold: uppercase I lookalikes read as I', only('foldConfusables'), '\u0399NVEST \u0456n \u0412\u0406\u0422\u0421\u041e\u0406N', 'INVEST in BITCOIN'],
    ['fold: lookalike digits read as digits', only('foldConfusables'), 'x\u0661\u09e6', 'x10'],
    ['fold: never touches ASCII (TR39 would map m → rn, I → l, 0 → O)', only('foldConfusables'), 'mIl0 |`', 'mIl0 |`'],
    ['fold: symbols between letters', only('foldConfusables'), 'he\u2223\u2223o', 'hello'],
    ['fold: whole-script lookalike word', only('foldConfusables'), '\u0440\u0430\u0443', 'pay'],
    ['fold: genuine Russian stays', only('foldConfusables'), 'Привет мир', 'Привет мир'],
    ['fold: genuine Greek stays', only('foldConfusables'), 'Σοφία', 'Σοφία'],
    ['fold: accents stay', only('foldConfusables'), 'café naïve', 'café naïve'],
    ['fold: Japanese stays', only('foldConfusables'), 'エロ 日本語', 'エロ 日本語'],
    ['strip: zero-width inside words', only('stripInvisible'), `fr${ZWSP}ee mo${ZWJ}ney`, 'free money'],
    ['strip: soft hyphen, bidi override, variation selector, tag', only('stripInvisible'), `fr${SHY}e${RLO}e${PDF} ok${VS16}${TAG_A}`, 'free ok'],
    ['strip: keeps visible spaces', only('stripInvisible'), 'a b\u00a0c', 'a b\u00a0c'],
    ['join: spaced letters', only('joinSpacedLetters'), 'f r e e  m o n e y', 'free money'],
    ['join: punctuation spacers, one per run', only('joinSpacedLetters'), 'f.r.e.e c-a-s-h now', 'free cash now'],
    ['join: wide gap before an ordinary word', only('joinSpacedLetters'), 'c l i c k   here', 'click here'],
    ['join: leaves one- and two-letter runs', only('joinSpacedLetters'), 'I am a b ok', 'I am a b ok'],
    ['join: never glues onto a word', only('joinSpacedLetters'), 'ab c d e', 'ab cde'],
    ['join: mixed separators are two runs', only('joinSpacedLetters'), 'a.b.c d e f', 'abc def'],
  ])('%s', (_name, normalization, input, expected) => {
    expect(normalizeText(input, normalization)).toBe(expected);
  });
});

describe('normalizeText: all flags (the hardened spec)', () => {
  it.each<[string, string]>([
    [`${GREEK_DIGAMMA}r${CYR_E}${CYR_E} ${MATH_BOLD_MONEY}`, 'free money'],
    [`${FULLWIDTH_FREE} m${ZWSP}o${SHY}n${CYR_E}y`, 'free money'],
    [`f ${ZWSP}r e ${CYR_E}  m o n e y`, 'free money'],
    ['ΠΡΙΒΕΤ', 'πριβετ'],
    ['ПРИВЕТ мир', 'привет мир'],
    ['\u0399NVEST', 'invest'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(normalizeText(input, ALL)).toBe(expected);
  });

  it('folds a word the same way in any letter case', () => {
    for (const word of ['Привет', 'орех', 'Σοφία', `fr${CYR_E}${CYR_E}`]) {
      expect(normalizeText(word.toUpperCase(), ALL)).toBe(normalizeText(word.toLowerCase(), ALL));
    }
  });

  it('is idempotent', () => {
    const samples = [
      `${GREEK_DIGAMMA}r${CYR_E}${CYR_E} ${MATH_BOLD_MONEY} ${FULLWIDTH_FREE}`,
      'f r e e  m o n e y, c.a.s.h',
      'Ǆemal ǆ ﬁ ½ Ⅻ ① ℌ',
      'Привет мир σοφία 日本語 İstanbul',
      `a${ZWJ}b${RLO}c${PDF}`,
    ];
    for (const s of samples) {
      const once = normalizeText(s, ALL);
      expect(normalizeText(once, ALL)).toBe(once);
    }
  });

  it('cuts after stripping invisible characters when given a maximum length', () => {
    expect(normalizeText(`${ZWSP.repeat(10)}ABCDEFGH`, ALL, 4)).toBe('abcd');
    expect(normalizeText('ABCDEFGH', OFF, 4)).toBe('ABCD');
    // Never half a surrogate pair.
    expect(normalizeText('abc\u{20000}', OFF, 4)).toBe('abc');
  });

  it('leaves lone surrogates in place rather than throwing', () => {
    expect(normalizeText('a\ud800b', ALL)).toBe('a\ud800b');
    expect(foldConfusables(`\udc00${CYR_E}`)).toBe(`\udc00e`);
  });

  it('is pure: the same input gives the same output every time', () => {
    const input = `${GREEK_DIGAMMA}r${CYR_E}${CYR_E} f r e e`;
    expect(new Set(Array.from({ length: 5 }, () => normalizeText(input, ALL))).size).toBe(1);
    expect(joinSpacedLetters('x y z')).toBe('xyz');
  });
});
