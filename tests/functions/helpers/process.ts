// Helper scripts of these suites run in processes of their own: with environment flags the
// stack's functions do not have, or to be killed (SIGKILL) mid-work as a dying function is.
import { assertEquals } from '../assert.ts';

const CONFIG = new URL('../../../supabase/functions/deno.json', import.meta.url).pathname;

type Stdio = 'piped' | 'inherit' | 'null';

/**
 * A command that runs `script` (a file in this folder) with the functions' import map, in this
 * process's environment plus `env`.
 */
export function helperCommand(
  script: string,
  args: string[],
  opts: { env?: Record<string, string>; stdout?: Stdio; stderr?: Stdio } = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ['run', '-A', '--config', CONFIG, new URL(`./${script}`, import.meta.url).pathname, ...args],
    env: { ...Deno.env.toObject(), ...opts.env },
    stdout: opts.stdout ?? 'piped',
    stderr: opts.stderr ?? 'inherit',
  });
}

/** Runs `script` to its end (it must exit 0) and returns what its last line of output says, as JSON. */
export async function helperResult<T>(script: string, args: string[], env: Record<string, string>, what: string): Promise<T> {
  const { code, stdout } = await helperCommand(script, args, { env }).output();
  assertEquals(code, 0, what);
  return JSON.parse(new TextDecoder().decode(stdout).trim().split('\n').at(-1)!);
}
