// The one code style of the repository (TypeScript, JavaScript, Svelte, CSS): `npm run format`
// writes it, the lint suite of `npm test` checks it. web/prettier.config.js adds the Svelte plugin.
// The width matches how the code was written before a formatter enforced it.
export default {
  printWidth: 140,
  singleQuote: true,
  trailingComma: 'all',
};
