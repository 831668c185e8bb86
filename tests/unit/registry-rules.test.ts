import { describe, expect, it } from 'vitest';
import { aliasesBlockingRemoval, checkAliasName, checkLabels, checkModelName } from '../../src/domain/index.js';

describe('registry rules', () => {
  it.each([
    ['spam-filter', true],
    ['toxicity.v2_en', true],
    ['0day', true],
    ['Spam', false],
    ['-spam', false],
    ['', false],
    ['a'.repeat(65), false],
    ['spam filter', false],
  ])('model name %j valid: %s', (name, ok) => {
    expect(checkModelName(name) === undefined).toBe(ok);
  });

  it.each([
    ['champion', true],
    ['challenger', true],
    ['staging-eu', true],
    ['3', false],
    ['Champion', false],
  ])('alias %j valid: %s', (alias, ok) => {
    expect(checkAliasName(alias) === undefined).toBe(ok);
  });

  it.each([
    [['ham', 'spam'], undefined],
    [['spam'], /2 to 100 labels; got 1/],
    [['ham', 'ham'], /"ham" appears twice/],
    [['ham', ' spam'], /without surrounding spaces/],
    [['ham', ''], /1 to 64 characters/],
  ])('labels %j', (labels, problem) => {
    const violation = checkLabels(labels);
    if (problem === undefined) expect(violation).toBeUndefined();
    else expect(violation?.message).toMatch(problem);
  });

  it('names the aliases that block removing a version', () => {
    const aliases = [
      { name: 'champion', version: 3 },
      { name: 'challenger', version: 4 },
      { name: 'staging', version: 3 },
    ];
    expect(aliasesBlockingRemoval(3, aliases)).toEqual(['champion', 'staging']);
    expect(aliasesBlockingRemoval(2, aliases)).toEqual([]);
  });
});
