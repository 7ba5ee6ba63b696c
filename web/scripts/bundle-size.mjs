// Initial JavaScript of one route of the built SPA, gzipped: the kit entry points, the root
// layout, the route's layouts and page, and everything they import statically (what the browser
// must fetch before the route renders). Reads the Vite manifest of the last `npm run build`.
//
//   node scripts/bundle-size.mjs [route id, default "/(app)/dashboard"] [--json]
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUT = resolve(WEB, '.svelte-kit/output/client');
const GENERATED = '.svelte-kit/generated/client-optimized';
const KIT_ENTRY = 'node_modules/@sveltejs/kit/src/runtime/client/entry.js';

function routeNodes(routeId) {
  const app = readFileSync(resolve(WEB, GENERATED, 'app.js'), 'utf8');
  const dictionary = /export const dictionary = (\{[\s\S]*?\});/.exec(app)?.[1];
  if (!dictionary) throw new Error('no route dictionary in the generated app.js; run `npm run build` first');
  const routes = JSON.parse(dictionary.replace(/,\s*}/, '}'));
  const entry = routes[routeId];
  if (!entry) throw new Error(`unknown route ${routeId}; known: ${Object.keys(routes).join(', ')}`);
  const [page, layouts = []] = entry;
  // Node 0 is the root layout, always loaded; negative layout indexes mark server-only loads.
  return [0, ...layouts.map(Math.abs), page].filter((n, i, all) => n !== undefined && all.indexOf(n) === i);
}

export function initialJs(routeId = '/(app)/dashboard') {
  const manifest = JSON.parse(readFileSync(resolve(OUTPUT, '.vite/manifest.json'), 'utf8'));
  const roots = [KIT_ENTRY, `${GENERATED}/app.js`, ...routeNodes(routeId).map((n) => `${GENERATED}/nodes/${n}.js`)];
  const files = new Map();
  const visit = (key) => {
    const chunk = manifest[key];
    if (!chunk) throw new Error(`${key} is not in the build manifest`);
    if (files.has(chunk.file)) return;
    const bytes = readFileSync(resolve(OUTPUT, chunk.file));
    files.set(chunk.file, { raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length });
    for (const dep of chunk.imports ?? []) visit(dep);
  };
  roots.forEach(visit);
  const list = [...files].map(([file, size]) => ({ file, ...size })).sort((a, b) => b.gzip - a.gzip);
  return {
    route: routeId,
    files: list,
    raw: list.reduce((s, f) => s + f.raw, 0),
    gzip: list.reduce((s, f) => s + f.gzip, 0),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const result = initialJs(args.find((a) => !a.startsWith('--')));
  if (args.includes('--json')) {
    console.log(JSON.stringify(result));
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    for (const f of result.files) console.log(`${kb(f.gzip).padStart(9)} gz  ${kb(f.raw).padStart(9)}  ${f.file}`);
    console.log(`initial JS of ${result.route}: ${kb(result.gzip)} gzipped (${kb(result.raw)} raw) in ${result.files.length} files`);
  }
}
