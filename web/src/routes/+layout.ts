// A client-only SPA: nothing renders on a server and nothing is prerendered; the static host
// answers every path with the fallback page (see svelte.config.js).
export const ssr = false;
export const prerender = false;
