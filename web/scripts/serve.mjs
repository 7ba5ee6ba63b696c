// A small static server for the built SPA, as a CDN would serve it: files from the build
// directory, index.html for every other path (client-side routing), and /config.json generated
// from the runtime configuration so one build runs against any Supabase project.
//
// Module:  const { url, close } = await serveWeb({ port, host, buildDir, config })
// CLI:     SUPABASE_URL=… SUPABASE_ANON_KEY=… WEB_PORT=54323 node web/scripts/serve.mjs
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import { dirname, extname, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const DEFAULT_BUILD_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'build');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|manifest\+json)|image\/svg)/;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/** Checks the config the SPA will read; fails at start rather than in every browser. */
function checkConfig(config) {
  const url = config?.supabaseUrl;
  const key = config?.supabaseAnonKey;
  if (typeof url !== 'string' || !/^https?:\/\//.test(url)) {
    throw new Error('serveWeb: config.supabaseUrl must be an http(s) URL (env SUPABASE_URL)');
  }
  if (typeof key !== 'string' || key.trim() === '') {
    throw new Error('serveWeb: config.supabaseAnonKey must be set (env SUPABASE_PUBLISHABLE_KEY or SUPABASE_ANON_KEY)');
  }
  return JSON.stringify({ supabaseUrl: url, supabaseAnonKey: key });
}

async function fileAt(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? s : null;
  } catch {
    return null;
  }
}

/**
 * Starts the server. `port` 0 picks a free port. Resolves once it listens, with its URL and a
 * close() that stops it (open keep-alive connections included).
 */
export async function serveWeb({ port = 0, host = '127.0.0.1', buildDir = DEFAULT_BUILD_DIR, config }) {
  const configJson = checkConfig(config);
  const root = resolve(buildDir);
  const index = resolve(root, 'index.html');
  if (!(await fileAt(index))) {
    throw new Error(`serveWeb: ${index} does not exist; build the web app first (cd web && npm run build)`);
  }

  function send(res, status, headers, body) {
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
    res.end(body);
  }

  // Text assets go out gzip-compressed when the browser accepts it, as every CDN does; the
  // compressed bytes are computed once per file version (path + mtime + size).
  const gzipped = new Map();
  async function gzipOf(path, stats) {
    const key = `${path}:${stats.mtimeMs}:${stats.size}`;
    let body = gzipped.get(key);
    if (!body) {
      body = gzipSync(await readFile(path), { level: 9 });
      gzipped.set(key, body);
    }
    return body;
  }

  async function sendFile(req, res, path, stats, cacheControl) {
    const type = TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
    const compressible = COMPRESSIBLE.test(type) && stats.size > 1024;
    const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (compressible && acceptsGzip) {
      const body = await gzipOf(path, stats);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        'content-type': type,
        'content-encoding': 'gzip',
        'content-length': String(body.length),
        'cache-control': cacheControl,
        vary: 'Accept-Encoding',
      });
      return res.end(req.method === 'HEAD' ? undefined : body);
    }
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': type,
      'content-length': String(stats.size),
      'cache-control': cacheControl,
      ...(compressible ? { vary: 'Accept-Encoding' } : {}),
    });
    if (req.method === 'HEAD') return res.end();
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  }

  const server = createServer(async (req, res) => {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return send(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'Method Not Allowed');
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      let pathname;
      try {
        pathname = decodeURIComponent(url.pathname);
      } catch {
        return send(res, 400, { 'content-type': 'text/plain; charset=utf-8' }, 'Bad Request');
      }
      if (pathname.includes('\0')) return send(res, 400, { 'content-type': 'text/plain; charset=utf-8' }, 'Bad Request');

      if (pathname === '/config.json') {
        return send(
          res,
          200,
          { 'content-type': TYPES['.json'], 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(configJson)) },
          req.method === 'HEAD' ? undefined : configJson,
        );
      }

      const path = resolve(root, `.${pathname}`);
      const inside = path === root || path.startsWith(root + sep);
      const file = inside && path !== root ? await fileAt(path) : null;
      if (file) {
        // Hashed file names under /_app/immutable never change; everything else must revalidate.
        const immutable = pathname.startsWith('/_app/immutable/');
        return sendFile(req, res, path, file, immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
      }
      // A missing asset is a 404 (a broken script tag must not receive HTML); any other path is
      // a client-side route and gets the app.
      if (!inside || pathname.startsWith('/_app/') || extname(pathname) !== '') {
        return send(res, 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' }, 'Not Found');
      }
      const indexFile = await fileAt(index);
      if (!indexFile) return send(res, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'index.html is missing');
      return sendFile(req, res, index, indexFile, 'no-cache');
    } catch {
      if (!res.headersSent) send(res, 500, { 'content-type': 'text/plain; charset=utf-8' }, 'Internal Server Error');
      else res.destroy();
    }
  });

  await new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const address = server.address();
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

async function main() {
  const port = Number(process.env.WEB_PORT ?? 54323);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`WEB_PORT must be a port number, not ${process.env.WEB_PORT}`);
  const { url, close } = await serveWeb({
    port,
    host: process.env.WEB_HOST ?? '127.0.0.1',
    buildDir: process.env.WEB_BUILD_DIR ?? DEFAULT_BUILD_DIR,
    // The publishable key when the project has one, else the legacy anon key.
    config: {
      supabaseUrl: process.env.SUPABASE_URL,
      supabaseAnonKey: process.env.SUPABASE_PUBLISHABLE_KEY || process.env.SUPABASE_ANON_KEY,
    },
  });
  console.log(`web: serving the SPA at ${url} (API ${process.env.SUPABASE_URL})`);
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err.message);
    process.exit(1);
  });
}
