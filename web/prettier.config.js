// The repository's style (../prettier.config.js) plus Svelte components. The plugin is imported
// here, not named, so it resolves from web/ whichever directory prettier runs in.
import * as svelte from 'prettier-plugin-svelte';
import base from '../prettier.config.js';

export default {
  ...base,
  plugins: [svelte],
};
