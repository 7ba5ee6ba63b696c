// Finds functions longer than a limit with the TypeScript compiler's own parser, so that every
// form of function counts (declarations, methods, constructors, accessors, arrow functions and
// function expressions, nested ones on their own) and strings or comments never confuse it.
import ts from 'typescript';

export const MAX_FUNCTION_LINES = 80;

export interface LongFunction {
  file: string;
  /** 1-based line where the function starts. */
  line: number;
  lines: number;
  name: string;
}

/** Functions of `source` longer than `max` lines, counted from the node's first line to its last. */
export function longFunctions(file: string, source: string, max = MAX_FUNCTION_LINES): LongFunction[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true, scriptKind(file));
  const out: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      if (lines > max) out.push({ file, line: start + 1, lines, name: functionName(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

function scriptKind(file: string): ts.ScriptKind {
  return /\.(m|c)?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
}

/** The declared name, or for an anonymous function the variable, property or call it is bound to. */
function functionName(node: ts.SignatureDeclaration): string {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if ((ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText();
  }
  if (ts.isCallExpression(parent) || ts.isNewExpression(parent))
    return `(argument of ${parent.expression.getText().replace(/\s+/g, '').slice(0, 40)})`;
  return '(anonymous)';
}

/** One line per function, longest first, in the form editors turn into links. */
export function formatLongFunctions(found: LongFunction[]): string {
  return [...found]
    .sort((a, b) => b.lines - a.lines)
    .map((f) => `${f.file}:${f.line} ${f.name}: ${f.lines} lines`)
    .join('\n');
}

/**
 * Splits what was found into the functions that fail the check and the exceptions that no longer
 * match anything (split, renamed or moved): those are listed too, so the list only ever shrinks.
 */
export function judge(found: LongFunction[], known: ReadonlySet<string>): { over: LongFunction[]; stale: string[] } {
  const keys = new Set(found.map((f) => `${f.file}:${f.name}`));
  return {
    over: found.filter((f) => !known.has(`${f.file}:${f.name}`)),
    stale: [...known].filter((k) => !keys.has(k)),
  };
}
