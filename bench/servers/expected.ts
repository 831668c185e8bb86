import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The platform answers with package.json's version, so every target does, to send identical bytes. */
export const VERSION = (require('../../package.json') as { version: string }).version;

export const QUERY = JSON.stringify({ query: '{ serverInfo { version } }' });

/** Apollo terminates its JSON with a newline; the bare handler copies it so all three send the same bytes. */
export const EXPECTED_BODY = `${JSON.stringify({ data: { serverInfo: { version: VERSION } } })}\n`;
