/**
 * Trigger words of spam and toxic text with what an evader writes instead: synonyms a reader
 * understands the same way, and misspellings that keep the look of the word. Small on purpose: a
 * bag-of-n-grams classifier leans hardest on a few dozen such words, and this is where a lexicon
 * attack gets its evasions; anything bigger belongs in a data file, not in domain code.
 * Keys are lowercase; a substitute takes the case pattern of the word it replaces.
 */
const ENTRIES: Readonly<Record<string, readonly string[]>> = {
  money: ['m0ney', 'cash', 'funds', 'moolah', 'mon3y'],
  cash: ['c@sh', 'money', 'ca$h', 'funds'],
  free: ['fr-ee', 'complimentary', 'fr33', 'no-cost', 'frée'],
  click: ['tap', 'press', 'cl1ck', 'klick'],
  winner: ['w1nner', 'lucky one', 'champ', 'winnr'],
  win: ['w1n', 'score', 'bag'],
  won: ['w0n', 'scored', 'got'],
  prize: ['reward', 'pr1ze', 'award', 'prise'],
  viagra: ['v1agra', 'vi@gra', 'v!agra', 'blue pill', 'vlagra'],
  cialis: ['c1alis', 'cia1is', 'tadalafil'],
  pills: ['p1lls', 'tablets', 'meds'],
  cheap: ['low-cost', 'ch3ap', 'affordable', 'cheep'],
  offer: ['deal', '0ffer', 'opportunity'],
  buy: ['purchase', 'grab', 'b-uy'],
  order: ['get', '0rder', 'request'],
  credit: ['cr3dit', 'financing', 'kredit'],
  loan: ['l0an', 'lending', 'advance'],
  debt: ['d3bt', 'balance owed'],
  casino: ['cas1no', 'gaming hall', 'kasino'],
  bitcoin: ['btc', 'b1tcoin', 'bitc0in'],
  crypto: ['crypt0', 'digital coins', 'kripto'],
  investment: ['opportunity', 'inv3stment', 'venture'],
  urgent: ['time-sensitive', 'urg3nt', 'pressing'],
  guarantee: ['promise', 'guarant33', 'assurance'],
  guaranteed: ['assured', 'guarant33d', 'promised'],
  discount: ['markdown', 'disc0unt', 'price cut'],
  sale: ['s4le', 'clearance', 'deal'],
  limited: ['l1mited', 'exclusive', 'scarce'],
  unsubscribe: ['opt out', 'unsubscr1be', 'remove me'],
  password: ['passw0rd', 'login code', 'passcode'],
  account: ['acct', 'acc0unt', 'profile'],
  verify: ['confirm', 'ver1fy', 'validate'],
  bank: ['b4nk', 'lender', 'financial institution'],
  million: ['mi11ion', 'mil', 'a lot'],
  dollars: ['doll4rs', 'bucks', 'usd'],
  rich: ['r1ch', 'wealthy', 'loaded'],
  congratulations: ['congrats', 'c0ngratulations', 'kudos'],
  selected: ['chosen', 'picked', 's3lected'],
  claim: ['collect', 'cla1m', 'redeem'],
  gift: ['g1ft', 'present', 'bonus'],
  sex: ['s3x', 's*x', 'intimacy'],
  porn: ['p0rn', 'pr0n', 'adult videos'],
  nude: ['nud3', 'unclothed', 'n00d'],
  weight: ['w8', 'we1ght', 'pounds'],
  kill: ['k1ll', 'unalive', 'end'],
  die: ['d1e', 'perish', 'expire'],
  hate: ['h8', 'despise', 'h4te'],
  idiot: ['1diot', 'id!ot', 'dimwit'],
  stupid: ['stoopid', 'stup1d', 'dense'],
  dumb: ['dum', 'd*mb', 'slow'],
  loser: ['l0ser', 'failure', 'looser'],
  ugly: ['ugl1', 'unsightly', 'fugly'],
};

/** A Map, not the object: a text saying "constructor" must not find Object.prototype's. */
export const LEXICON: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(ENTRIES));

export function lexiconSubstitutes(word: string): readonly string[] | undefined {
  return LEXICON.get(word.toLowerCase());
}

/** `replacement` in the case pattern of `original`: MONEY → CASH, Money → Cash, money → cash. */
export function matchCase(original: string, replacement: string): string {
  if (original.length > 1 && original === original.toUpperCase() && original !== original.toLowerCase()) return replacement.toUpperCase();
  const first = original.charAt(0);
  if (first !== first.toLowerCase()) return replacement.charAt(0).toUpperCase() + replacement.slice(1);
  return replacement;
}
