import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as z from 'zod/mini';
import { callFunction, functionPath, segment, type FunctionsInvoker } from '../../web/src/lib/api.ts';
import { ApiError } from '../../web/src/lib/api-error.ts';

type Call = { name: string; options: { method?: string; body?: unknown; headers?: Record<string, string> } };

function fakeClient(answer: (call: Call) => { data: unknown; error: unknown }): { client: FunctionsInvoker; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    client: {
      functions: {
        invoke: async (name, options) => {
          const call = { name, options };
          calls.push(call);
          return answer(call);
        },
      },
    },
  };
}

// What functions-js returns for a non-2xx answer: an error whose context is the Response.
class FunctionsHttpError extends Error {
  constructor(public context: Response) {
    super('Edge Function returned a non-2xx status code');
    this.name = 'FunctionsHttpError';
  }
}

test('functionPath adds only defined query values, encoded', () => {
  assert.equal(functionPath('members', { workspace_id: 'a b&c' }), 'members?workspace_id=a+b%26c');
  assert.equal(functionPath('workspaces', { x: undefined }), 'workspaces');
  assert.equal(segment('../admin'), '..%2Fadmin');
});

test('a call sends method, body and a request id, and returns the validated answer', async () => {
  const { client, calls } = fakeClient(() => ({ data: { workspaces: [{ id: 'w1' }] }, error: null }));
  const schema = z.object({ workspaces: z.array(z.object({ id: z.string() })) });
  const out = await callFunction(client, 'workspaces', { method: 'POST', body: { name: 'X' }, schema });
  assert.deepEqual(out, { workspaces: [{ id: 'w1' }] });
  assert.equal(calls[0]!.name, 'workspaces');
  assert.equal(calls[0]!.options.method, 'POST');
  assert.deepEqual(calls[0]!.options.body, { name: 'X' });
  assert.match(calls[0]!.options.headers!['x-request-id']!, /^[0-9a-f-]{36}$/);
});

test('an answer that does not match the schema is an unexpected_response error, not a crash later', async () => {
  const { client } = fakeClient(() => ({ data: { workspaces: 'nope' }, error: null }));
  await assert.rejects(
    callFunction(client, 'workspaces', { schema: z.object({ workspaces: z.array(z.string()) }), requestId: 'rid-00000001' }),
    (e: unknown) =>
      e instanceof ApiError && e.code === 'unexpected_response' && e.requestId === 'rid-00000001' && /workspaces/.test(e.message),
  );
});

test('an HTTP error answer is parsed from its envelope', async () => {
  const res = new Response(JSON.stringify({ error: { code: 'not_found', message: 'workspace not found', request_id: 'srv-12345678' } }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  });
  const { client } = fakeClient(() => ({ data: null, error: new FunctionsHttpError(res) }));
  await assert.rejects(callFunction(client, 'members', { query: { workspace_id: 'x' } }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.status, e.code, e.message, e.requestId], [404, 'not_found', 'workspace not found', 'srv-12345678']);
    return true;
  });
});

test('a gateway error without a request id gets the id the client sent', async () => {
  const res = new Response(JSON.stringify({ code: 401, message: 'Invalid JWT' }), { status: 401 });
  const { client } = fakeClient(() => ({ data: null, error: new FunctionsHttpError(res) }));
  await assert.rejects(callFunction(client, 'account', { requestId: 'client-rid-42' }), (e: unknown) => {
    assert.ok(e instanceof ApiError);
    assert.deepEqual([e.status, e.code, e.message, e.requestId], [401, 'http_401', 'Invalid JWT', 'client-rid-42']);
    return true;
  });
});

test('a network failure is reported as such, with the request id', async () => {
  const fetchError = Object.assign(new Error('Failed to send a request to the Edge Function'), { name: 'FunctionsFetchError' });
  const { client } = fakeClient(() => ({ data: null, error: fetchError }));
  await assert.rejects(
    callFunction(client, 'workspaces', { requestId: 'rid-net-0001' }),
    (e: unknown) => e instanceof ApiError && e.code === 'network_error' && e.status === null && e.requestId === 'rid-net-0001',
  );
});
