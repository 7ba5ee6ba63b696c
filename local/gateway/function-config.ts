// Reads per-function `verify_jwt` from supabase/config.toml, the same setting hosted Supabase
// applies at its gateway. Only the `[functions.<name>]` tables are needed, so a small reader of
// that subset of TOML is enough (section headers and `key = true|false`).
import { readFileSync } from 'node:fs';

export function readVerifyJwt(configPath: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  let current: string | null = null;
  for (const raw of readFileSync(configPath, 'utf8').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    const section = /^\[([^\]]+)\]$/.exec(line);
    if (section) {
      const m = /^functions\.("?)([A-Za-z0-9_-]+)\1$/.exec(section[1]);
      current = m ? m[2] : null;
      continue;
    }
    const kv = /^verify_jwt\s*=\s*(true|false)$/.exec(line);
    if (current && kv) out.set(current, kv[1] === 'true');
  }
  return out;
}
