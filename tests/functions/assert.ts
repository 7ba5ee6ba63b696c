// node:assert/strict re-exported with the names the Deno tests use (JSR's std is unreachable).
import assert from 'node:assert/strict';

export const assertEquals = <T>(actual: T, expected: T, message?: string) => assert.deepStrictEqual(actual, expected, message);
export const assertMatch = (actual: string, re: RegExp, message?: string) => assert.match(actual, re, message);
export const assert_ = assert;
export function assertOk(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}
