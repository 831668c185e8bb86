/**
 * Turning a raw RFC 822 message into a labelled example: the subject and the body, without the
 * transport headers (Received:, Message-Id:, the spam filters' own X- headers), which would let a
 * classifier learn the mail servers instead of the text.
 */
export interface EmailText {
  readonly subject: string;
  readonly body: string;
}

const BLANK_LINE = /\r?\n\r?\n/;

export function parseEmail(raw: string): EmailText {
  const match = BLANK_LINE.exec(raw);
  const headers = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  // Folded header lines continue with whitespace (RFC 5322 §2.2.3).
  const unfolded = headers.replace(/\r?\n[ \t]+/g, ' ');
  const subject = /^subject:[ \t]*(.*)$/im.exec(unfolded)?.[1]?.trim() ?? '';
  return { subject, body: body.trim() };
}

/** Subject, a newline, the body. */
export const emailExampleText = (email: EmailText): string => `${email.subject}\n${email.body}`;

/** SpamAssassin's groups: easy-ham-1, easy-ham-2, hard-ham-1, spam-1, spam-2. */
export function spamAssassinLabel(group: string): 'ham' | 'spam' | undefined {
  if (/^(easy|hard)-ham-\d+$/.test(group)) return 'ham';
  if (/^spam-\d+$/.test(group)) return 'spam';
  return undefined;
}
