// Lighthouse CI configuration for `npm run lighthouse` (tools/lighthouse.ts) and the production
// job of .github/workflows/deploy.yml. The target comes from env so one file serves the local
// stack and production: LHCI_WEB_URL (the web app's origin), LHCI_RUNS (runs per page, median
// reported). Budgets are the product's: performance >= 90, accessibility >= 95, best practices >= 95.
/* global module */
const web = (process.env.LHCI_WEB_URL || 'http://127.0.0.1:54323').replace(/\/+$/, '');
const runs = Number(process.env.LHCI_RUNS || 3);

// Debian's chromium, never a downloaded browser. puppeteer-core (installed with lighthouse)
// launches it so the session script and Lighthouse share one browser.
const chromePath = process.env.CHROME_PATH || '/usr/bin/chromium';

module.exports = {
  ci: {
    collect: {
      url: [`${web}/sign-in`, `${web}/dashboard`],
      numberOfRuns: runs,
      chromePath,
      // Signs out before the sign-in page and signs in (through the form) before the dashboard.
      puppeteerScript: process.env.LHCI_SESSION_SCRIPT || 'tools/lighthouse/session.cjs',
      puppeteerLaunchOptions: {
        executablePath: chromePath,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      },
      settings: {
        // Lighthouse's defaults: mobile form factor, simulated slow 4G and 4x CPU slowdown. Each
        // run clears the HTTP cache and service workers but keeps localStorage, where the session is.
        onlyCategories: ['performance', 'accessibility', 'best-practices'],
      },
    },
    assert: {
      assertions: {
        'categories:performance': ['error', { minScore: 0.9, aggregationMethod: 'median-run' }],
        'categories:accessibility': ['error', { minScore: 0.95, aggregationMethod: 'median-run' }],
        'categories:best-practices': ['error', { minScore: 0.95, aggregationMethod: 'median-run' }],
      },
    },
    upload: {
      target: 'filesystem',
      outputDir: process.env.LHCI_OUTPUT_DIR || '.lighthouseci/reports',
    },
  },
};
