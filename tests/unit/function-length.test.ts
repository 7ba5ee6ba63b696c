// The lint check that no function in supabase/functions or local is over 80 lines
// (tools/function-length.ts): the scanner counts every form of function, at 81 lines and not at 80.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLongFunctions, judge, longFunctions, MAX_FUNCTION_LINES } from '../../tools/function-length/scan.ts';

/** Body lines that make the whole function, from its first line to its closing brace, `total` lines. */
const body = (total: number) => Array.from({ length: total - 2 }, (_, i) => `  const v${i} = ${i};`).join('\n');

const forms: Record<string, (total: number) => string> = {
  declaration: (n) => `export function planted() {\n${body(n)}\n}\n`,
  'async arrow': (n) => `const planted = async () => {\n${body(n)}\n};\n`,
  'function expression': (n) => `const planted = function () {\n${body(n)}\n};\n`,
  method: (n) => `class C {\n  planted() {\n${body(n)}\n  }\n}\n`,
  'class constructor': (n) => `class C {\n  constructor() {\n${body(n)}\n  }\n}\n`,
  'callback argument': (n) => `new Promise((resolve) => {\n${body(n)}\n});\n`,
  'route handler in an object': (n) => `export const routes = {\n  planted: (ctx) => {\n${body(n)}\n  },\n};\n`,
};

describe('function length check', () => {
  assert.equal(MAX_FUNCTION_LINES, 80);

  for (const [form, source] of Object.entries(forms)) {
    it(`finds a planted ${MAX_FUNCTION_LINES + 1}-line ${form} and passes one of ${MAX_FUNCTION_LINES}`, () => {
      const found = longFunctions('planted.ts', source(MAX_FUNCTION_LINES + 1));
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.equal(found[0].lines, MAX_FUNCTION_LINES + 1);
      assert.deepEqual(longFunctions('planted.ts', source(MAX_FUNCTION_LINES)), []);
    });
  }

  it('names the function and its line, nested ones on their own', () => {
    const source = `// header\nexport function outer() {\n  const inner = () => {\n${body(90)}\n  };\n  return inner;\n}\n`;
    const found = longFunctions('local/x.ts', source);
    assert.deepEqual(
      found.map((f) => [f.name, f.line, f.lines]),
      [
        ['outer', 2, 93],
        ['inner', 3, 90],
      ],
    );
    assert.equal(formatLongFunctions(found), 'local/x.ts:2 outer: 93 lines\nlocal/x.ts:3 inner: 90 lines');
  });

  it('parses JavaScript modules (local/*.mjs) and ignores braces in strings and comments', () => {
    const source = `export function planted() {\n  const s = '}}}';\n  // }\n${body(MAX_FUNCTION_LINES)}\n}\n`;
    assert.deepEqual(
      longFunctions('local/bootstrap.mjs', source).map((f) => f.lines),
      [MAX_FUNCTION_LINES + 2],
    );
  });

  it('excuses only the listed exceptions, and reports an exception that matches nothing', () => {
    const found = longFunctions('a.ts', forms.declaration(MAX_FUNCTION_LINES + 1));
    assert.deepEqual(judge(found, new Set(['a.ts:planted'])), { over: [], stale: [] });
    assert.deepEqual(judge(found, new Set(['b.ts:planted'])), { over: found, stale: ['b.ts:planted'] });
  });
});
