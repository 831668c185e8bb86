/**
 * Seeded text generators for the inference benchmark: short messages (SMS, chat, tweet sized)
 * and multi-paragraph e-mails, in plain English with the names, numbers, prices, dates and URLs
 * real traffic carries. Every call yields a new text, so a result cache never answers.
 */
export type Rng = () => number;

const NAMES = ['Anna', 'Ben', 'Carla', 'David', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemi', 'Lucas', 'Maya', 'Noah', 'Olga', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Tariq'];
const NOUNS = [
  'report', 'meeting', 'invoice', 'budget', 'schedule', 'proposal', 'contract', 'deadline', 'presentation', 'client',
  'project', 'team', 'office', 'lunch', 'dinner', 'flight', 'hotel', 'ticket', 'package', 'delivery',
  'account', 'password', 'payment', 'order', 'refund', 'receipt', 'subscription', 'newsletter', 'offer', 'discount',
  'prize', 'winner', 'bonus', 'loan', 'credit', 'bank', 'card', 'wallet', 'crypto', 'investment',
  'doctor', 'appointment', 'weekend', 'party', 'birthday', 'game', 'match', 'movie', 'book', 'recipe',
  'garden', 'kitchen', 'car', 'bike', 'train', 'bus', 'station', 'airport', 'holiday', 'trip',
  'draft', 'review', 'feedback', 'question', 'answer', 'update', 'release', 'server', 'database', 'backup',
  'quarter', 'forecast', 'spreadsheet', 'slide', 'agenda', 'minutes', 'workshop', 'training', 'course', 'certificate',
];
const VERBS = [
  'send', 'check', 'review', 'confirm', 'book', 'cancel', 'move', 'share', 'update', 'finish',
  'call', 'meet', 'bring', 'sign', 'approve', 'pay', 'order', 'print', 'read', 'fix',
  'claim', 'verify', 'unlock', 'activate', 'redeem', 'win', 'earn', 'join', 'click', 'reply',
];
const ADJECTIVES = [
  'new', 'final', 'quick', 'short', 'long', 'late', 'early', 'busy', 'free', 'urgent',
  'important', 'exclusive', 'limited', 'amazing', 'guaranteed', 'secure', 'private', 'special', 'weekly', 'monthly',
  'updated', 'revised', 'shared', 'open', 'closed', 'pending', 'approved', 'missing', 'great', 'small',
];
const FILLER = [
  'I think', 'as discussed', 'by the way', 'just a reminder', 'if possible', 'no rush', 'thanks again', 'sorry for the delay',
  'as far as I know', 'for what it is worth', 'in the meantime', 'on second thought', 'to be honest', 'either way',
];
const DOMAINS = ['example.com', 'mail.example.org', 'docs.example.net', 'secure-login.example.info', 'shop.example.co', 'bit.example.ly'];
const PATHS = ['verify', 'account/login', 'offers/today', 'docs/d/1x9Kq', 'track', 'unsubscribe', 'invoice/view', 'share/folder', 'promo'];
const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
const plural = (noun: string) => (/(s|ch|sh|x)$/.test(noun) ? `${noun}es` : /[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : `${noun}s`);

function url(rng: Rng): string {
  return `${rng() < 0.7 ? 'https' : 'http'}://${pick(rng, DOMAINS)}/${pick(rng, PATHS)}?id=${int(rng, 1000, 999_999)}`;
}
const money = (rng: Rng) => `${rng() < 0.5 ? '$' : '€'}${int(rng, 5, 9999).toLocaleString('en-US')}${rng() < 0.5 ? `.${int(rng, 10, 99)}` : ''}`;
const time = (rng: Rng) => `${int(rng, 7, 19)}:${pick(rng, ['00', '15', '30', '45'])}`;
const date = (rng: Rng) => `${pick(rng, WEEKDAYS)} ${pick(rng, MONTHS)} ${int(rng, 1, 28)}`;
const phone = (rng: Rng) => `+1 ${int(rng, 200, 989)}-${int(rng, 200, 989)}-${int(rng, 1000, 9999)}`;

/** One sentence, ham or spam flavoured. */
function sentence(rng: Rng, spam: boolean): string {
  const n = pick(rng, NOUNS);
  const n2 = pick(rng, NOUNS);
  const v = pick(rng, VERBS);
  const a = pick(rng, ADJECTIVES);
  const templates: readonly (() => string)[] = spam
    ? [
        () => `${a.toUpperCase()} ${n} inside: ${v} now at ${url(rng)} before it expires`,
        () => `Congratulations, you have been selected to ${v} a ${a} ${n} worth ${money(rng)}`,
        () => `Your ${n} #${int(rng, 10_000, 99_999)} is on hold, ${v} your details within ${int(rng, 2, 48)} hours`,
        () => `Call ${phone(rng)} today and ${v} your ${a} ${n}, only ${int(rng, 2, 50)} left`,
        () => `Earn ${money(rng)} a week from home with this ${a} ${n2} plan, no experience needed`,
        () => `Last chance!!! ${int(rng, 10, 90)}% off every ${n}, reply STOP to opt out`,
      ]
    : [
        () => `Can you ${v} the ${a} ${n} before ${date(rng)}?`,
        () => `${capitalize(pick(rng, FILLER))}, the ${n} moved to ${time(rng)} in room ${int(rng, 100, 499)}`,
        () => `${pick(rng, NAMES)} will ${v} the ${n2} and the ${n} by ${pick(rng, WEEKDAYS)}`,
        () => `The ${a} ${n} came to ${money(rng)}, I put the numbers in the ${n2}`,
        () => `I uploaded the ${n} here: ${url(rng)} let me know what you think`,
        () => `We need ${int(rng, 2, 40)} more ${plural(n)} for the ${a} ${n2}, ${pick(rng, FILLER)}`,
        () => `${capitalize(pick(rng, FILLER))}, ${pick(rng, NAMES)} asked whether we could ${v} the ${n} earlier`,
      ];
  const text = pick(rng, templates)();
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/** A text and whether it was written to read like spam (to train a baseline model on). */
export interface Labeled {
  readonly text: string;
  readonly spam: boolean;
}

/** A message of one or more sentences, up to 280 characters (a tweet's limit); about one in three reads like spam. */
export function shortText(rng: Rng): string {
  return shortMessage(rng).text;
}

export function shortMessage(rng: Rng): Labeled {
  const spam = rng() < 0.35;
  const target = int(rng, 20, 280); // one sentence at least, which is longer than 20
  let text = sentence(rng, spam);
  while (text.length < target) {
    const next = `${text} ${sentence(rng, spam)}`;
    if (next.length > 280) break;
    text = next;
  }
  return { text: text.length <= 280 ? text : `${text.slice(0, 279).replace(/\s+\S*$/, '')}…`, spam };
}

/**
 * An e-mail of about `minChars` (a sentence less at most) to `maxChars` characters: greeting,
 * paragraphs of three to seven sentences separated by blank lines, and a signature with a phone
 * number and a link.
 */
export function emailMessage(rng: Rng, minChars: number, maxChars: number): Labeled {
  const spam = rng() < 0.35;
  const to = pick(rng, NAMES);
  const from = pick(rng, NAMES);
  const head = `Hi ${to},\n\n`;
  const tail = `\n\nBest regards,\n${from}\n${phone(rng)}\n${url(rng)}`;
  const target = int(rng, minChars, maxChars) - head.length - tail.length;
  const room = maxChars - head.length - tail.length;
  let body = '';
  while (body.length < target) {
    const sentences: string[] = [];
    for (let s = int(rng, 3, 7); s > 0; s--) sentences.push(sentence(rng, spam));
    body = body ? `${body}\n\n${sentences.join(' ')}` : sentences.join(' ');
  }
  if (body.length > room) {
    // End on the last whole sentence that fits.
    const cut = body.slice(0, room);
    const end = cut.lastIndexOf('. ');
    body = end > room / 2 ? cut.slice(0, end + 1) : cut;
  }
  return { text: head + body + tail, spam };
}

/** `count` texts from `make`. */
export function many(count: number, make: () => string): string[] {
  return Array.from({ length: count }, make);
}
