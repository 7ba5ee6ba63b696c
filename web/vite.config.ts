import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [sveltekit()],
  build: { reportCompressedSize: true },
  // The app imports the contracts the functions use (roles, content kinds, field limits) from
  // their one source outside this folder; the dev server serves only the folders listed here.
  server: { fs: { allow: ['.', '../supabase/functions/_shared/contracts'] } },
});
