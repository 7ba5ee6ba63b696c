// `npm run stop`: stops a stack left running (its processes and its Postgres cluster).
import { profile } from '../profile.ts';
import { stopLeftStack } from '../stack/lifecycle.ts';

console.log(await stopLeftStack(profile()));
