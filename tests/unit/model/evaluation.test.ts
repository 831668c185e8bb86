import { describe, expect, it } from 'vitest';
import { classMetrics, compareF1, evaluateClassification, evaluateIndices } from '../../../src/domain/model/index.js';

describe('evaluateClassification', () => {
  // gold:      s s s s h h h h h h   (4 spam, 6 ham)
  // predicted: s s s h s h h h h h   tp(spam) = 3, fn = 1, fp = 1
  const gold = ['spam', 'spam', 'spam', 'spam', 'ham', 'ham', 'ham', 'ham', 'ham', 'ham'];
  const predicted = ['spam', 'spam', 'spam', 'ham', 'spam', 'ham', 'ham', 'ham', 'ham', 'ham'];

  it('computes accuracy, per-class metrics, macro F1 and the confusion matrix by hand', () => {
    const e = evaluateClassification(gold, predicted, ['ham', 'spam']);
    expect(e.total).toBe(10);
    expect(e.correct).toBe(8);
    expect(e.accuracy).toBe(0.8);
    // ham: tp 5, predicted 6, support 6 → p 5/6, r 5/6, f1 5/6; spam: tp 3, predicted 4, support 4 → 3/4 each.
    expect(e.perClass[0]).toEqual({ label: 'ham', precision: 5 / 6, recall: 5 / 6, f1: expect.closeTo(5 / 6, 12), support: 6, predicted: 6 });
    expect(e.perClass[1]).toEqual({ label: 'spam', precision: 0.75, recall: 0.75, f1: 0.75, support: 4, predicted: 4 });
    expect(e.macroF1).toBeCloseTo((5 / 6 + 0.75) / 2, 12);
    expect(e.confusion).toEqual([
      [5, 1],
      [1, 3],
    ]);
    expect(classMetrics(e, 'spam').f1).toBe(0.75);
  });

  it.each([
    // name, gold, predicted, labels, accuracy, macroF1, per-class F1
    ['all right', ['a', 'b', 'c'], ['a', 'b', 'c'], ['a', 'b', 'c'], 1, 1, [1, 1, 1]],
    ['all wrong', ['a', 'a'], ['b', 'b'], ['a', 'b'], 0, 0, [0, 0]],
    // a: tp 1, fn 1, fp 0 → p 1, r 1/2, f1 2/3; b: tp 1, fp 1 → p 1/2, r 1, f1 2/3; c never occurs: left out of the macro.
    ['unused label', ['a', 'a', 'b'], ['a', 'b', 'b'], ['a', 'b', 'c'], 2 / 3, 2 / 3, [2 / 3, 2 / 3, 0]],
    // a predicted never: precision 0/0 = 0, recall 0 → f1 0.
    ['a class never predicted', ['a', 'b', 'b', 'b'], ['b', 'b', 'b', 'b'], ['a', 'b'], 0.75, (0 + 6 / 7) / 2, [0, 6 / 7]],
    ['nothing to evaluate', [], [], ['a', 'b'], 0, 0, [0, 0]],
  ] as const)('%s', (_name, g, p, labels, accuracy, macroF1, f1s) => {
    const e = evaluateClassification([...g], [...p], [...labels]);
    expect(e.accuracy).toBeCloseTo(accuracy, 12);
    expect(e.macroF1).toBeCloseTo(macroF1, 12);
    e.perClass.forEach((m, i) => expect(m.f1).toBeCloseTo(f1s[i]!, 12));
  });

  it('takes score rows (argmax, first on a tie) as well as labels', () => {
    const rows = [
      [0.9, 0.1],
      [0.2, 0.8],
      [0.5, 0.5],
      Float32Array.from([0.3, 0.7]),
    ];
    const e = evaluateClassification(['ham', 'spam', 'ham', 'ham'], rows, ['ham', 'spam']);
    expect(e.confusion).toEqual([
      [2, 1],
      [0, 1],
    ]);
    expect(evaluateIndices([0, 1, 0, 0], [0, 1, 0, 1], ['ham', 'spam'])).toEqual(e);
  });

  it('throws on caller bugs: unknown labels, length mismatches, wrong row widths', () => {
    expect(() => evaluateClassification(['x'], ['ham'], ['ham', 'spam'])).toThrow(/gold label "x"/);
    expect(() => evaluateClassification(['ham'], ['x'], ['ham', 'spam'])).toThrow(/predicted label "x"/);
    expect(() => evaluateClassification(['ham'], [], ['ham', 'spam'])).toThrow(/1 gold labels but 0 predictions/);
    expect(() => evaluateClassification(['ham'], [[1, 0, 0]], ['ham', 'spam'])).toThrow(/3 values for 2 labels/);
    expect(() => evaluateIndices([2], [0], ['ham', 'spam'])).toThrow(/outside/);
  });
});

describe('compareF1', () => {
  const gold = ['spam', 'spam', 'ham', 'ham'];
  const champion = evaluateClassification(gold, ['spam', 'ham', 'ham', 'ham'], ['ham', 'spam']); // spam f1 = 2/3
  const challenger = evaluateClassification(gold, ['spam', 'spam', 'ham', 'ham'], ['ham', 'spam']); // spam f1 = 1

  it('compares the F1 of the positive class on the same split', () => {
    expect(compareF1(champion, challenger, 'spam')).toEqual({ label: 'spam', champion: 2 / 3, challenger: 1, delta: expect.closeTo(1 / 3, 12), challengerBetter: true });
    expect(compareF1(challenger, champion, 'spam').challengerBetter).toBe(false);
    expect(compareF1(champion, challenger, 'spam', 0.5).challengerBetter).toBe(false);
    expect(compareF1(champion, champion, 'spam').challengerBetter).toBe(false);
  });

  it('refuses evaluations of different splits or an unknown label', () => {
    const other = evaluateClassification(['spam', 'ham'], ['spam', 'ham'], ['ham', 'spam']);
    expect(() => compareF1(champion, other, 'spam')).toThrow(/same test split/);
    expect(() => compareF1(champion, challenger, 'phishing')).toThrow(/"phishing" is not one of/);
  });
});
