// The re-cut proof (tools/schema-compare.ts) compares normalised dumps: what only reflects when
// or in which order migrations ran is ignored, and everything else still shows as a difference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseDump } from '../../tools/schema-compare.ts';

const header =
  '--\n-- PostgreSQL database dump\n--\n\n\\restrict KEY1\n\n-- Dumped from database version 15.14\n-- Dumped by pg_dump version 15.14\n';

function dump(blocks: string[], key = 'KEY1'): string {
  return `${header.replace('KEY1', key)}\n${blocks.join('\n\n')}\n\n\\unrestrict ${key}\n`;
}

const tableA =
  '--\n-- Name: a; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE public.a (\n    id integer,\n    name text\n);';
const tableB = '--\n-- Name: b; Type: TABLE; Schema: public; Owner: postgres\n--\n\nCREATE TABLE public.b (\n    id integer\n);';
const rows = (first: string, second: string) =>
  `--\n-- Data for Name: a; Type: TABLE DATA; Schema: public; Owner: postgres\n--\n\nCOPY public.a (id, name) FROM stdin;\n${first}\n${second}\n\\.`;

test('object order, restrict keys, seeded row order and their now() timestamps are ignored', () => {
  const before = dump([tableA, tableB, rows('1\tx 2026-12-07 06:26:17.079413+00', '2\ty')], 'KEY1');
  const after = dump([tableB, tableA, rows('2\ty', '1\tx 2026-12-07 06:26:36.265342+00')], 'KEY2');
  assert.equal(normaliseDump(before), normaliseDump(after));
});

test('column order, a missing object and a different seeded value are differences', () => {
  const base = normaliseDump(dump([tableA, tableB, rows('1\tx', '2\ty')]));
  const swapped = tableA.replace('    id integer,\n    name text', '    name text,\n    id integer');
  assert.notEqual(normaliseDump(dump([swapped, tableB, rows('1\tx', '2\ty')])), base);
  assert.notEqual(normaliseDump(dump([tableA, rows('1\tx', '2\ty')])), base);
  assert.notEqual(normaliseDump(dump([tableA, tableB, rows('1\tx', '2\tz')])), base);
});
