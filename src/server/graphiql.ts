import type { Express, Request, Response } from 'express';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { VERSION } from '../version.js';

const require = createRequire(import.meta.url);

/** A file inside an installed package, past its `exports` map (which hides the UMD builds). */
const packageFile = (pkg: string, file: string) => path.join(path.dirname(require.resolve(`${pkg}/package.json`)), file);

/**
 * GraphiQL from the server's own node_modules: no CDN, because many users' networks (and the
 * build machines) have no internet. These are the UMD builds React 18 and GraphiQL 3 ship.
 */
const ASSETS: Record<string, { file: string; type: string }> = {
  'react.js': { file: packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  'react-dom.js': { file: packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  'graphiql.js': { file: packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  'graphiql.css': { file: packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' },
  'graphql-ws.js': { file: packageFile('graphql-ws', 'umd/graphql-ws.min.js'), type: 'text/javascript' },
};

export const GRAPHIQL_PATH = '/graphiql';
const ASSET_PREFIX = `${GRAPHIQL_PATH}/assets`;

function page(): string {
  const asset = (name: string) => `${ASSET_PREFIX}/${name}?v=${VERSION}`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Content Arena · GraphiQL</title>
  <link rel="icon" href="data:," />
  <link rel="stylesheet" href="${asset('graphiql.css')}" />
  <style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="${asset('react.js')}"></script>
  <script src="${asset('react-dom.js')}"></script>
  <script src="${asset('graphql-ws.js')}"></script>
  <script src="${asset('graphiql.js')}"></script>
  <script>
    const http = new URL('/graphql', window.location.href);
    const ws = new URL(http);
    ws.protocol = http.protocol === 'https:' ? 'wss:' : 'ws:';

    // Sign-in: a one-time link (…/graphiql#signin=<token>, printed at first start) is redeemed
    // for a session kept in this tab's storage and renewed before it expires. A token typed in
    // the Headers pane ({"Authorization": "Bearer …"}) wins over the stored one.
    const KEY = 'content-arena.session';
    let session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    const save = (s) => { session = s; s ? sessionStorage.setItem(KEY, JSON.stringify(s)) : sessionStorage.removeItem(KEY); };
    const post = (query, variables) =>
      fetch(http, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) }).then((r) => r.json());
    const TOKENS = 'accessToken accessTokenExpiresAt refreshToken refreshTokenExpiresAt user { email role }';
    async function renew() {
      if (!session) return;
      const out = await post('mutation($t: String!) { refreshToken(input: { refreshToken: $t }) { ' + TOKENS + ' } }', { t: session.refreshToken });
      save(out.data ? out.data.refreshToken : null);
      schedule();
    }
    function schedule() {
      if (!session) return;
      const ms = new Date(session.accessTokenExpiresAt).getTime() - Date.now() - 60000;
      setTimeout(renew, Math.max(ms, 1000));
    }
    const signIn = (async () => {
      const match = /[#&]signin=([^&]+)/.exec(window.location.hash);
      if (match) {
        history.replaceState(null, '', window.location.pathname);
        const out = await post('mutation($t: String!) { redeemSignInLink(input: { token: $t }) { ' + TOKENS + ' } }', { t: match[1] });
        if (out.data) save(out.data.redeemSignInLink);
        else alert('Sign-in link refused: ' + out.errors.map((e) => e.message).join('; '));
      } else if (session && new Date(session.accessTokenExpiresAt).getTime() < Date.now() + 60000) {
        await renew();
      }
      schedule();
    })();
    const bearer = () => (session ? { authorization: 'Bearer ' + session.accessToken } : {});
    const fetcher = GraphiQL.createFetcher({
      url: http.toString(),
      fetch: async (input, init) => {
        await signIn;
        const given = new Headers(init && init.headers);
        if (!given.has('authorization') && session) given.set('authorization', bearer().authorization);
        return fetch(input, { ...init, headers: given });
      },
      wsClient: graphqlWs.createClient({
        url: ws.toString(),
        lazy: true,
        connectionParams: async () => { await signIn; return bearer(); },
      }),
    });
    const defaultQuery = [
      '# Content Arena. Signed in through a sign-in link, you are the user in me below;',
      '# otherwise run login and put its accessToken in Headers: {"Authorization": "Bearer …"}.',
      '# Run the mutation, then paste its id into the subscription in a second tab to watch the job.',
      'query Me { me { email role } }',
      '',
      'mutation Login { login(input: { email: "you@example.com", password: "…" }) { accessToken } }',
      '',
      'mutation Ping {',
      '  requestPing(input: { message: "hello", delayMs: 500 }) { pingJob { id status } }',
      '}',
      '',
      'subscription Watch($id: ID!) {',
      '  pingJobUpdated(id: $id) { id status reply workerId finishedAt }',
      '}',
      '',
      'query Info { serverInfo { version mode database queue uptimeSeconds } }',
      '',
    ].join('\\n');
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery, shouldPersistHeaders: false }),
    );
  </script>
</body>
</html>`;
}

/** A person who opens /graphql in a browser wants the explorer, not a 400: a GET for HTML with no query. */
export function wantsGraphiQL(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || /[?&]query=/.test(req.url ?? '')) return false;
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html') && !accept.startsWith('application/json');
}

export function mountGraphiQL(app: Express): void {
  const html = page();
  const send = (_req: Request, res: Response) => {
    res.type('html').set('cache-control', 'no-cache').send(html);
  };
  app.get(GRAPHIQL_PATH, send);
  // The server routes here only the /graphql requests that wantsGraphiQL() picks.
  app.get('/graphql', send);
  app.get(`${ASSET_PREFIX}/:name`, (req, res) => {
    const asset = ASSETS[req.params.name];
    if (!asset) {
      res.status(404).json({ errors: [{ message: 'No such asset.', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    res.type(asset.type).sendFile(asset.file, { maxAge: '1y', immutable: true });
  });
}
