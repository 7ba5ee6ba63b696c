// Loads a `.svelte.ts` module of the web app (runes in plain TypeScript) in Node the way Vite does
// for the browser: TypeScript stripped, then compiled by Svelte's own compiler, so a test runs the
// same $state code the pages do. The compiled file is written inside web/ so that its `svelte`
// imports resolve to the app's own copy; its relative imports are pointed back at the sources.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '../../../web');
const OUT = resolve(WEB, '.svelte-kit/unit-test-modules');

// The one compiler entry used here (svelte is a dependency of web/ only, so no types from it).
interface SvelteCompiler {
  compileModule(source: string, options: { filename: string; generate: 'client'; dev: boolean }): { js: { code: string } };
}

export async function importSvelteModule<M>(sourcePath: string): Promise<M> {
  const source = resolve(WEB, sourcePath);
  const js = ts.transpileModule(readFileSync(source, 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  }).outputText;
  const require = createRequire(resolve(WEB, 'package.json'));
  // require.resolve finds the CommonJS build, whose exports arrive as the default export.
  const compiler = (await import(pathToFileURL(require.resolve('svelte/compiler')).href)) as { default: SvelteCompiler };
  const { compileModule } = compiler.default;
  const compiled = compileModule(js, { filename: source, generate: 'client', dev: false }).js.code;
  const linked = compiled.replace(
    /from '(\.{1,2}\/[^']+)'/g,
    (_, rel: string) => `from '${pathToFileURL(resolve(dirname(source), rel)).href}'`,
  );
  mkdirSync(OUT, { recursive: true });
  const out = resolve(OUT, `${sourcePath.replace(/[^\w.-]/g, '_')}.${process.pid}.mjs`);
  writeFileSync(out, linked);
  return (await import(pathToFileURL(out).href)) as M;
}
