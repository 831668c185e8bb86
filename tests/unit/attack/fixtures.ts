/** Texts the attack tests share: a short spam line, a toxic line, and a several-KB e-mail. */
export const SPAM = 'Congratulations! You are a WINNER: click here to claim your free money prize now.';
export const TOXIC = 'You are a stupid idiot and everyone will hate you.';
export const PLAIN = 'The meeting moved to Thursday afternoon, please bring the quarterly report.';

const PARAGRAPHS = [
  'Dear friend, we are writing to inform you that your account has been selected for a special offer.',
  'Our records show an unclaimed balance of one million dollars waiting for verification by our bank.',
  'To receive the money, click the secure link below and verify your password within the next hours.',
  'This limited offer is guaranteed and completely free of charge, with no hidden fees or conditions.',
  'Thousands of customers have already claimed their prize and changed their lives with this program.',
  'If you do not wish to receive further messages you may unsubscribe at any time using the form.',
];

/** About 4 KB: long enough that a strategy must pick words, not rewrite everything. */
export const EMAIL = Array.from({ length: 7 }, (_, i) => PARAGRAPHS.map((p) => `${p} (${i + 1})`).join('\n')).join('\n\n');

/** Longest common subsequence length, case-insensitive: how much of the original survives in order. */
export function lcsLength(a: string, b: string): number {
  const x = Array.from(a.toLowerCase());
  const y = Array.from(b.toLowerCase());
  let prev = new Array<number>(y.length + 1).fill(0);
  for (let i = 1; i <= x.length; i++) {
    const cur = new Array<number>(y.length + 1).fill(0);
    for (let j = 1; j <= y.length; j++) cur[j] = x[i - 1] === y[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    prev = cur;
  }
  return prev[y.length]!;
}
