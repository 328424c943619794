// The operator console's files: one HTML shell for every page address, the browser code (our
// TypeScript with its types stripped when first asked for, no bundler, no build step) and the
// vendored Preact and htm modules from node_modules. Nothing is fetched from the internet.
import { readFileSync } from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import { join } from 'node:path';

/** A file or page the console answers, for GET requests (the shape the local gateway serves). */
export interface ConsoleFile {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const webDir = new URL('./web/', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const vendor: Record<string, string> = {
  'preact.js': require.resolve('preact'),
  'preact-hooks.js': require.resolve('preact/hooks'),
  'htm.js': require.resolve('htm').replace(/htm\.js$/, 'htm.module.js'),
};

/** The page addresses of the console (each answers the same shell; the browser code routes). */
export const consolePaths = ['/', '/login', '/orders', '/sagas', '/dead-letters', '/products', '/users'] as const;
/** Where its code and styles are served from. */
export const assetPrefix = '/console';

// Scripts only from here; no inline script, no eval; connections to this origin only.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const shell = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OMS console</title>
<link rel="stylesheet" href="${assetPrefix}/style.css">
<script type="module" src="${assetPrefix}/app/main.ts"></script>
</head>
<body>
<div id="app"><p class="loading">Loading the console…</p></div>
<noscript>The console needs JavaScript.</noscript>
</body>
</html>
`;

/** Bare module names, as our code and Preact's hooks import them, to the files served here. */
const specifiers: Record<string, string> = { preact: 'preact.js', 'preact/hooks': 'preact-hooks.js', htm: 'htm.js' };
// No import map: the page's policy allows no inline script, so the imports are rewritten instead.
const linked = (code: string) => code.replace(/(\bfrom\s*)(["'])(preact|preact\/hooks|htm)\2/g, (_m, from: string, q: string, name: string) => `${from}${q}${assetPrefix}/vendor/${specifiers[name]}${q}`);

const cache = new Map<string, ConsoleFile>();
const notFound = (what: string): ConsoleFile => ({ status: 404, type: 'text/plain; charset=utf-8', body: `${what} is not part of the console` });

function asset(path: string): ConsoleFile {
  const hit = cache.get(path);
  if (hit) return hit;
  const name = path.slice(assetPrefix.length + 1);
  let file: ConsoleFile | undefined;
  if (name === 'style.css') file = { status: 200, type: 'text/css; charset=utf-8', body: readFileSync(join(webDir, 'style.css'), 'utf8') };
  else if (name.startsWith('vendor/') && vendor[name.slice(7)]) file = { status: 200, type: 'text/javascript; charset=utf-8', body: linked(readFileSync(vendor[name.slice(7)]!, 'utf8')) };
  else if (/^app\/[a-z-]+\.ts$/.test(name)) {
    let source: string;
    try {
      source = readFileSync(join(webDir, name.slice(4)), 'utf8');
    } catch {
      return notFound(path);
    }
    // Type-only syntax becomes white space: the lines and columns stay those of the source.
    file = { status: 200, type: 'text/javascript; charset=utf-8', body: linked(stripTypeScriptTypes(source)) };
  }
  if (!file) return notFound(path);
  cache.set(path, file);
  return file;
}

/** The console's answer for a GET of `path` (a page address or one of its files). */
export function consoleFile(path: string): ConsoleFile {
  if (path.startsWith(`${assetPrefix}/`)) return asset(path);
  return { status: 200, type: 'text/html; charset=utf-8', body: shell, headers: { 'content-security-policy': CSP } };
}
