// lhci puppeteerScript: runs in the browser Lighthouse will audit with, once before each URL's
// runs. The sign-in page is audited signed out; every other page signed in as the smoke user
// (LHCI_EMAIL / LHCI_PASSWORD), through the real sign-in form, so the session lands in
// localStorage exactly as for a person. Lighthouse clears the HTTP cache before each run but not
// localStorage, so the session survives and every measured load is still a cold one.
/* global module, localStorage, location -- CommonJS for lhci; the last two run inside the page */
module.exports = async function session(browser, { url }) {
  const target = new URL(url);
  const page = await browser.newPage();
  try {
    page.setDefaultTimeout(30_000);
    await page.goto(`${target.origin}/sign-in`, { waitUntil: 'networkidle0' });
    await page.evaluate(() => localStorage.clear());
    if (target.pathname === '/sign-in') return;

    const email = process.env.LHCI_EMAIL;
    const password = process.env.LHCI_PASSWORD;
    if (!email || !password) throw new Error('LHCI_EMAIL and LHCI_PASSWORD must be set to audit pages behind sign-in');
    await page.reload({ waitUntil: 'networkidle0' });
    await page.type('input[type="email"]', email);
    await page.type('input[type="password"]', password);
    await Promise.all([
      page.waitForFunction(() => location.pathname !== '/sign-in', { timeout: 30_000 }),
      page.click('button[type="submit"]'),
    ]).catch(async (err) => {
      const alert = await page.$eval('[role="alert"]', (el) => el.textContent).catch(() => null);
      throw new Error(`sign-in for the audit failed${alert ? `: ${alert.trim()}` : ''} (${err.message})`);
    });
  } finally {
    await page.close();
  }
};
