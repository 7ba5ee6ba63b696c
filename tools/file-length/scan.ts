// Which files are too long to read as one unit: a file over MAX_FILE_LINES holds more than one
// idea and should be split into modules named for what each holds. Tests and migrations are not
// judged (a suite or a migration is read one case at a time); prose and data files are not code.
export const MAX_FILE_LINES = 400;

/** Code we write by hand, by extension; documents, lock files and recorded results are not. */
const CODE_FILE = /\.(ts|mts|cts|js|mjs|cjs|svelte|css|sql|sh|ya?ml|toml)$/;
const NOT_JUDGED = [/^tests\//, /^supabase\/migrations\//];

export interface LongFile {
  file: string;
  lines: number;
}

/** Whether `file` (a path relative to the repository root) is held to the limit. */
export function isJudged(file: string): boolean {
  return CODE_FILE.test(file) && !NOT_JUDGED.some((re) => re.test(file));
}

/** Lines as an editor numbers them: a final newline does not start another line. */
export function countLines(text: string): number {
  if (text === '') return 0;
  const breaks = text.split('\n').length - 1;
  return text.endsWith('\n') ? breaks : breaks + 1;
}

/**
 * The files over the limit that are not known exceptions, and the exceptions that no longer match
 * a long file (split, shortened or moved): both fail, so the exception list only ever shrinks.
 */
export function judgeFiles(
  files: LongFile[],
  known: ReadonlyMap<string, string>,
  max = MAX_FILE_LINES,
): { over: LongFile[]; stale: string[] } {
  const long = files.filter((f) => isJudged(f.file) && f.lines > max);
  const longNames = new Set(long.map((f) => f.file));
  return {
    over: long.filter((f) => !known.has(f.file)).sort((a, b) => b.lines - a.lines),
    stale: [...known.keys()].filter((k) => !longNames.has(k)),
  };
}
