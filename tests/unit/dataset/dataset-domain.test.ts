import { describe, expect, it } from 'vitest';
import {
  DigestSet,
  ReportAccumulator,
  checkHeader,
  digest64,
  digestFromInt64,
  digestToInt64,
  emailExampleText,
  mergeReports,
  normalizeForDedup,
  parseEmail,
  spamAssassinLabel,
  splitOf,
  textDigests,
  validateRecord,
  type RowRules,
} from '../../../src/domain/dataset/index.js';

describe('normalization for duplicates', () => {
  it.each([
    ['FREE money', 'free money'],
    ['  free\t\tmoney \n', 'free money'],
    ['ｆｒｅｅ ｍｏｎｅｙ', 'free money'],
    ['Ϝrее money', 'free money'], // Greek digamma, Cyrillic е
    ['fr\u200Bee money', 'free money'],
    ['f r e e  money', 'free money'],
    ['Привет мир', 'привет мир'],
  ])('%j → %j', (text, normalized) => {
    expect(normalizeForDedup(text)).toBe(normalized);
  });

  it('gives duplicates after normalization one digest and exact copies one exact digest', () => {
    const a = textDigests('FREE money');
    const b = textDigests('ｆｒｅｅ  MONEY');
    expect(b.normalized).toEqual(a.normalized);
    expect(b.exact).not.toEqual(a.exact);
    expect(textDigests('FREE money')).toEqual(a);
  });
});

describe('digests', () => {
  it('are stable across runs (the split of stored data depends on them)', () => {
    expect(digest64('')).toEqual({ hi: 451841411, lo: 1217125560 });
    expect(digestToInt64(digest64('free money'))).toBe(digestToInt64(digest64('free money')));
    expect(digest64('free money')).toEqual(digest64('free money'));
    expect(digest64('free money')).not.toEqual(digest64('free monez'));
    expect(digest64('free money', 1)).not.toEqual(digest64('free money'));
  });

  it.each(['0', '1', '-1', '9223372036854775807', '-9223372036854775808'])('round-trips %s through int64', (n) => {
    expect(digestToInt64(digestFromInt64(n))).toBe(n);
  });

  it('DigestSet holds many digests and answers membership exactly', () => {
    const set = new DigestSet(4);
    const n = 200_000;
    let added = 0;
    for (let i = 0; i < n; i++) if (set.add(digest64(`text ${i}`))) added++;
    expect(added).toBe(n);
    expect(set.size).toBe(n);
    let again = 0;
    for (let i = 0; i < n; i += 97) if (set.add(digest64(`text ${i}`))) again++;
    expect(again).toBe(0);
    expect(set.has(digest64('text -1'))).toBe(false);
    expect(set.add({ hi: 0, lo: 0 })).toBe(true);
    expect(set.has({ hi: 0, lo: 0 })).toBe(true);
    expect(set.add({ hi: 0, lo: 0 })).toBe(false);
  });
});

describe('deterministic split', () => {
  it('holds out about the ratio, the same way every time, and duplicates never straddle it', () => {
    const texts = Array.from({ length: 20_000 }, (_, i) => `message number ${i}`);
    const test = texts.filter((t) => splitOf(textDigests(t).normalized, 0.2) === 'test').length;
    expect(test / texts.length).toBeGreaterThan(0.18);
    expect(test / texts.length).toBeLessThan(0.22);
    for (const t of texts.slice(0, 500)) {
      expect(splitOf(textDigests(t.toUpperCase()).normalized, 0.2)).toBe(splitOf(textDigests(t).normalized, 0.2));
    }
    expect(texts.every((t) => splitOf(textDigests(t).normalized, 0) === 'train')).toBe(true);
    expect(texts.every((t) => splitOf(textDigests(t).normalized, 1) === 'test')).toBe(true);
  });
});

describe('rows', () => {
  const rules: RowRules = { labels: new Set(['ham', 'spam']), maxTextLength: 10, maxSourceLength: 5 };
  it.each([
    [{ text: 'hi', label: 'ham' }, { text: 'hi', label: 'ham', source: null, split: null }],
    [{ text: 'hi', label: 'spam', source: 'x', split: 'test' }, { text: 'hi', label: 'spam', source: 'x', split: 'test' }],
    [{ text: 'hi', label: 'ham', source: '', split: '' }, { text: 'hi', label: 'ham', source: null, split: null }],
    [{ text: 'hi', label: 'ham', extra: 1 }, { text: 'hi', label: 'ham', source: null, split: null }],
  ])('accepts %j', (fields, row) => {
    expect(validateRecord({ line: 7, fields }, rules)).toEqual({ row });
  });

  it.each([
    [{ label: 'ham' }, 'MISSING_COLUMN', 'line 7: has no "text".'],
    [{ text: 'hi' }, 'MISSING_COLUMN', 'line 7: has no "label".'],
    [{ text: 3, label: 'ham' }, 'BAD_VALUE', 'line 7: "text" must be a string; got a number.'],
    [{ text: 'hi', label: ['ham'] }, 'BAD_VALUE', 'line 7: "label" must be a string; got an array.'],
    [{ text: ' \t', label: 'ham' }, 'EMPTY_TEXT', 'line 7: the text is empty.'],
    [{ text: 'x'.repeat(11), label: 'ham' }, 'OVERSIZED_TEXT', 'line 7: the text is 11 characters; the limit is 10.'],
    [{ text: 'hi', label: 'phish' }, 'UNKNOWN_LABEL', 'line 7: label "phish" is not in the dataset\'s label set (ham, spam).'],
    [{ text: 'hi', label: 'ham', split: 'dev' }, 'BAD_VALUE', 'line 7: split must be "train", "test" or empty; got "dev".'],
    [{ text: 'hi', label: 'ham', source: 'toolong' }, 'BAD_VALUE', 'line 7: the source is 7 characters; the limit is 5.'],
    [{ text: 'a\u0000b', label: 'ham' }, 'BAD_VALUE', 'line 7: the text contains a NUL character (\\u0000), which cannot be stored.'],
    [{ text: 'a\ud800', label: 'ham' }, 'BAD_VALUE', 'line 7: the text contains an unpaired UTF-16 surrogate (an invalid \\uD800–\\uDFFF escape).'],
  ])('refuses %j', (fields, kind, message) => {
    expect(validateRecord({ line: 7, fields }, rules)).toEqual({ problem: { line: 7, kind, message } });
  });

  it.each([
    [['text', 'label'], undefined],
    [['label', 'source', 'text', 'split', 'id'], undefined],
    [['text'], /no "label" column/],
    [['body', 'class'], /no "text" or "label" column/],
    [['text', 'label', 'text'], /names the column "text" twice/],
  ])('header %j', (columns, problem) => {
    const got = checkHeader(columns);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toMatch(problem);
  });
});

describe('validation report', () => {
  it('counts rows, classes, splits, duplicates and refused rows', () => {
    const acc = new ReportAccumulator(['ham', 'spam']);
    const add = (text: string, label: string, split: 'train' | 'test' | null = null) => {
      const d = textDigests(text);
      acc.add(label, split ?? splitOf(d.normalized, 0.5), d, split !== null);
    };
    add('free money', 'spam');
    add('free money', 'spam');
    add('FREE  Money', 'spam');
    add('lunch?', 'ham', 'test');
    acc.reject({ kind: 'EMPTY_TEXT' });
    acc.reject({ kind: 'UNKNOWN_LABEL' });
    acc.reject({ kind: 'MALFORMED' });
    const r = acc.report();
    expect(r).toMatchObject({
      rows: 4,
      labels: ['ham', 'spam'],
      exactDuplicates: 1,
      normalizedDuplicates: 2,
      splitsFromFile: 1,
      emptyTexts: 1,
      oversizedTexts: 0,
      unknownLabels: 1,
      invalidRows: 1,
    });
    expect(r.classDistribution.map((c) => [c.label, c.count])).toEqual([
      ['ham', 1],
      ['spam', 3],
    ]);
    const spam = r.classDistribution[1]!;
    expect(spam.train === 3 || spam.test === 3).toBe(true); // one normalized text: one side
    expect(r.splits.train + r.splits.test).toBe(4);
  });

  it('merges a parent’s report with a derived version’s new rows; seeded parent rows count as duplicates', () => {
    const parent = new ReportAccumulator(['ham', 'spam']);
    parent.add('spam', 'train', textDigests('free money'), false);
    const added = new ReportAccumulator(['ham', 'spam']);
    added.seen(textDigests('free money'));
    added.add('spam', 'train', textDigests('FREE money'), false);
    added.add('ham', 'test', textDigests('hello'), true);
    const merged = mergeReports(parent.report(), added.report());
    expect(merged).toMatchObject({ rows: 3, normalizedDuplicates: 1, exactDuplicates: 0, splits: { train: 2, test: 1 }, splitsFromFile: 1 });
    expect(merged.classDistribution).toEqual([
      { label: 'ham', count: 1, train: 0, test: 1 },
      { label: 'spam', count: 2, train: 2, test: 0 },
    ]);
  });
});

describe('e-mails', () => {
  it.each([
    ['From: a@b\nSubject: Hello\nX-Spam: yes\n\nBody line\n\nmore\n', { subject: 'Hello', body: 'Body line\n\nmore' }],
    ['Subject: folded\n  subject line\nTo: x\r\n\r\nbody', { subject: 'folded subject line', body: 'body' }],
    ['subject:lower\n\nb', { subject: 'lower', body: 'b' }],
    ['To: x\n\nno subject', { subject: '', body: 'no subject' }],
    ['Subject: headers only', { subject: 'headers only', body: '' }],
  ])('parses %j', (raw, email) => {
    expect(parseEmail(raw)).toEqual(email);
  });

  it('makes subject + newline + body, and labels the corpus groups', () => {
    expect(emailExampleText({ subject: 'Hi', body: 'there' })).toBe('Hi\nthere');
    expect(['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2', 'other'].map(spamAssassinLabel)).toEqual(['ham', 'ham', 'ham', 'spam', 'spam', undefined]);
  });
});
