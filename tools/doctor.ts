// `npm run doctor`: checks each credential in the env file (`.env`, or CCE_ENV_FILE) with one
// cheap call to its service and says in plain words what is wrong. Services without a credential
// are reported as fakes. Never prints a credential. Exit 1 when a configured credential fails.
import { byokFile, readDotenv } from '../local/stack/byok.ts';
import { profile } from '../local/profile.ts';
import { failed, formatReport, runDoctor } from './doctor/run.ts';

const p = profile();
const file = byokFile(p);
console.log(`Credentials from ${file ?? '(no env file for this profile: set CCE_ENV_FILE)'}\n`);
const reports = await runDoctor({ fakesUrl: p.urls.fakes, supabaseUrl: p.urls.gateway, file: readDotenv(file) });
console.log(formatReport(reports));
const bad = failed(reports);
console.log(bad ? '\nSome credentials do not work: see above.' : '\nEvery configured credential works.');
process.exit(bad ? 1 : 0);
