// Builds the web dashboard (web/src) into web/dist: content-hashed JS and CSS under assets/ and an
// index.html that names them, so the server can cache assets for a year and index.html never.
// `npm run build:web`; `npm run build` runs it too. Tests import buildWeb / webBuildIsStale.
import { build } from 'esbuild';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const WEB_DIST = path.join(root, 'web', 'dist');
/** What the bundle is made of: a change in any of these makes web/dist stale. */
const SOURCES = [path.join(root, 'web', 'src'), path.join(root, 'src', 'sdk')];

async function newestMtime(dir) {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const { mtimeMs } = await stat(path.join(entry.parentPath ?? entry.path, entry.name));
    newest = Math.max(newest, mtimeMs);
  }
  return newest;
}

/** True when web/dist is missing or older than its sources. */
export async function webBuildIsStale() {
  const built = await stat(path.join(WEB_DIST, 'index.html')).catch(() => null);
  if (!built) return true;
  const sources = await Promise.all(SOURCES.map(newestMtime));
  return Math.max(...sources) > built.mtimeMs;
}

const html = ({ js, css }) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>Content Arena</title>
  <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
  <link rel="stylesheet" href="/assets/${css}" />
  <script type="module" src="/assets/${js}"></script>
</head>
<body>
  <div id="root"></div>
  <noscript>The Content Arena dashboard needs JavaScript. The API is at /graphql and GraphiQL at /graphiql.</noscript>
</body>
</html>
`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1f3b73"/><path d="M9 23 16 8l7 15h-4l-3-7-3 7z" fill="#fff"/></svg>`;

/** Bundles web/src/main.tsx (React, chart.js, the SDK) into web/dist. Returns the asset names and sizes. */
export async function buildWeb({ minify = true, quiet = false } = {}) {
  await rm(WEB_DIST, { recursive: true, force: true });
  const assets = path.join(WEB_DIST, 'assets');
  await mkdir(assets, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: 'web/src/main.tsx' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    outdir: assets,
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    minify,
    sourcemap: minify ? false : 'inline',
    metafile: true,
    legalComments: 'linked',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': JSON.stringify(minify ? 'production' : 'development') },
    logLevel: quiet ? 'silent' : 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).map(([file, info]) => ({ name: path.basename(file), bytes: info.bytes }));
  const js = outputs.find((o) => o.name.endsWith('.js'))?.name;
  const css = outputs.find((o) => o.name.endsWith('.css'))?.name;
  if (!js || !css) throw new Error(`esbuild wrote no JS or CSS bundle: ${outputs.map((o) => o.name).join(', ')}`);
  await writeFile(path.join(assets, 'favicon.svg'), FAVICON);
  // index.html last: its mtime is what webBuildIsStale compares.
  await writeFile(path.join(WEB_DIST, 'index.html'), html({ js, css }));
  return { dir: WEB_DIST, js, css, outputs };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dev = process.argv.includes('--dev');
  const { outputs } = await buildWeb({ minify: !dev });
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  process.stdout.write(`web/dist: ${outputs.map((o) => `${o.name} ${kib(o.bytes)}`).join(', ')}\n`);
}
