// Which services `npm start` would run for real (from the env file, as local/stack/byok.ts
// decides), and one cheap call per real credential. Fakes are only reported, never called.
import { INTEGRATIONS, type Integration } from '../../supabase/functions/_shared/integrations/backends.ts';
import { planIntegrations, SERVICE_LABELS } from '../../local/stack/byok.ts';
import { checkGemini, GEMINI_CALL } from './gemini.ts';
import { checkGoogleOAuth, OAUTH_CALL } from './google-oauth.ts';
import { NetworkProblem } from './http.ts';
import { checkRevid, REVID_CALL } from './revid.ts';
import type { CheckOutcome } from './types.ts';

const CHECKS: Record<Integration, { run: (env: Record<string, string>) => Promise<CheckOutcome>; calls: string }> = {
  youtube: { run: checkGoogleOAuth, calls: OAUTH_CALL },
  gemini: { run: checkGemini, calls: GEMINI_CALL },
  revid: { run: checkRevid, calls: REVID_CALL },
};

export interface ServiceReport {
  service: Integration;
  label: string;
  backend: 'real' | 'fake';
  /** null: a fake, nothing was checked. */
  outcome: CheckOutcome | null;
  note: string;
}

export interface DoctorInput {
  fakesUrl: string;
  supabaseUrl: string;
  file: Record<string, string>;
}

async function runCheck(service: Integration, env: Record<string, string>): Promise<CheckOutcome> {
  try {
    return await CHECKS[service].run(env);
  } catch (err) {
    if (err instanceof NetworkProblem) {
      return {
        ok: false,
        code: err.code,
        explanation: `no network: could not reach ${err.host}. Is this machine online, and is the base URL right?`,
      };
    }
    throw err;
  }
}

export async function runDoctor(input: DoctorInput): Promise<ServiceReport[]> {
  const plan = planIntegrations(input.fakesUrl, input.file);
  const env = { ...plan.env, SUPABASE_URL: input.supabaseUrl };
  return Promise.all(
    INTEGRATIONS.map(async (service): Promise<ServiceReport> => {
      const s = plan.services[service];
      const base = { service, label: SERVICE_LABELS[service], backend: s.backend };
      if (s.missing.length > 0) {
        return {
          ...base,
          outcome: {
            ok: false,
            code: 'incomplete',
            explanation: `${s.missing.join(' and ')} missing: with only part of the credential the stack uses the fake.`,
          },
          note: s.reason,
        };
      }
      if (s.backend === 'fake') return { ...base, outcome: null, note: `${s.reason}: the stack uses the fake` };
      return { ...base, outcome: await runCheck(service, env), note: `checked with ${CHECKS[service].calls}` };
    }),
  );
}

export function formatReport(reports: ServiceReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    const head = r.outcome === null ? 'fake' : `${r.backend === 'real' ? 'REAL' : 'fake'} ${r.outcome.ok ? 'ok' : 'FAILED'}`;
    lines.push(`${r.outcome === null ? '·' : r.outcome.ok ? '✓' : '✗'} ${r.label}: ${head}${r.outcome ? ` [${r.outcome.code}]` : ''}`);
    if (r.outcome) {
      lines.push(`    ${r.outcome.explanation}`);
      if (r.outcome.message) lines.push(`    the provider said: ${r.outcome.message}`);
    }
    lines.push(`    ${r.note}`);
  }
  return lines.join('\n');
}

export function failed(reports: ServiceReport[]): boolean {
  return reports.some((r) => r.outcome !== null && !r.outcome.ok);
}
