import type { Express, Request, RequestHandler, Response } from 'express';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web dashboard (web/, built by `npm run build:web` into web/dist): one page at `/` and its
 * content-hashed assets under `/assets/`, all from the platform itself so it works offline.
 * src/server and dist/server are both two levels below the project root.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DASHBOARD_DIST = path.join(ROOT, 'web', 'dist');

/** Everything from this origin; the API's WebSocket is the same host over ws: or wss:. */
function contentSecurityPolicy(req: Request): string {
  const host = req.headers.host ?? '';
  const connect = host ? `'self' ws://${host} wss://${host}` : "'self'";
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const securityHeaders = (req: Request, res: Response) => {
  res.set({
    'content-security-policy': contentSecurityPolicy(req),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
};

export interface DashboardOptions {
  /** Where the built dashboard is; web/dist by default. */
  readonly dist?: string;
}

export function mountDashboard(app: Express, options: DashboardOptions = {}): void {
  const dist = options.dist ?? DASHBOARD_DIST;
  const indexFile = path.join(dist, 'index.html');
  const assets = path.join(dist, 'assets');
  // index.html is read again when a rebuild (npm run build:web) replaced it; assets are hashed.
  let cached: { mtimeMs: number; html: string } | null = null;
  const index = (): string | null => {
    if (!existsSync(indexFile)) return null;
    const { mtimeMs } = statSync(indexFile);
    if (cached?.mtimeMs !== mtimeMs) cached = { mtimeMs, html: readFileSync(indexFile, 'utf8') };
    return cached.html;
  };

  const page: RequestHandler = (req, res) => {
    const html = index();
    securityHeaders(req, res);
    if (html === null) {
      res
        .status(503)
        .type('text/plain')
        .set('cache-control', 'no-store')
        .send(`The dashboard is not built: ${indexFile} is missing. Run \`npm run build:web\` (or \`npm run build\`), then reload. The API is at /graphql, GraphiQL at /graphiql.\n`);
      return;
    }
    res.type('html').set('cache-control', 'no-cache').send(html);
  };
  // Client routes are in the hash (#/battles/…), so the page is only ever `/` (and /index.html).
  app.get('/', page);
  app.get('/index.html', page);

  app.get('/assets/:name', (req, res) => {
    const name = req.params.name;
    // One flat folder of hashed files; anything else (dots, slashes) is not ours.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
      res.status(404).json({ errors: [{ message: 'No such asset.', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    securityHeaders(req, res);
    const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(name);
    res.sendFile(name, { root: assets, maxAge: hashed ? '1y' : '1h', immutable: hashed, dotfiles: 'deny' }, (err) => {
      if (err && !res.headersSent) res.status(404).json({ errors: [{ message: 'No such asset.', extensions: { code: 'NOT_FOUND' } }] });
    });
  });
}
