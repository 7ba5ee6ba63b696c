import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // A static SPA: every unknown path gets index.html and the client router takes over, so one
    // build runs on any CDN or static server (runtime settings come from /config.json).
    adapter: adapter({ pages: 'build', assets: 'build', fallback: 'index.html', strict: true }),
    // Deep links such as /workspace/members are answered with the same fallback page, so asset
    // URLs must be absolute; relative ones would resolve against the deep path.
    paths: { relative: false },
    typescript: {
      config: (config) => ({
        ...config,
        compilerOptions: { ...config.compilerOptions, allowImportingTsExtensions: true },
      }),
    },
  },
};
