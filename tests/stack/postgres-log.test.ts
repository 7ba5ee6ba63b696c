// The local cluster logs slow statements (to find them) but never their bind parameters, which
// carry OAuth tokens, token ciphertexts and passwords: a slow statement and a failing one, each
// with a secret parameter, are in the log by their text and the secret is not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { profile } from '../../local/profile.ts';
import { logFile } from '../../local/stack/cluster.ts';

const DB_URL = process.env.SUPABASE_DB_URL;
const log = logFile(profile(process.env.CCE_PROFILE ?? 'test'));

/** Waits until the server log has a line containing `marker` (the logger writes asynchronously). */
async function logged(marker: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const text = readFileSync(log, 'utf8');
    if (text.includes(marker)) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no line with ${marker} in ${log}`);
}

test('a slow statement is logged without its parameters, and so is a failing one', { skip: !DB_URL }, async () => {
  const sql = postgres(DB_URL!, { max: 1, onnotice: () => {} });
  try {
    const run = randomBytes(6).toString('hex');
    const secret = `ya29.refresh-token-${randomBytes(12).toString('hex')}`;
    const slow = `slow-statement-probe-${run}`;
    await sql.unsafe(`select /* ${slow} */ pg_sleep(1.1), $1::text as token`, [secret]);
    const failing = `failing-statement-probe-${run}`;
    await assert.rejects(sql.unsafe(`select /* ${failing} */ 1 / 0, $1::text as token`, [secret]), /division by zero/);

    const text = await logged(failing).then(() => logged(slow));
    assert.match(text, new RegExp(`duration: [\\d.]+ ms .*${slow}`), 'the slow statement is logged with its duration');
    assert.equal(text.includes(secret), false, 'no parameter value is in the log');
  } finally {
    await sql.end({ timeout: 5 });
  }
});
