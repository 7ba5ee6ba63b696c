import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, apiErrorFromResponse, parseErrorBody, statusMessage, toApiError } from '../../web/src/lib/api-error.ts';

test('our functions’ envelope: code, message, request id and details', () => {
  const e = parseErrorBody(400, {
    error: { code: 'validation_failed', message: 'invalid body: name: Required', request_id: 'req-1234abcd', details: [{ path: 'name' }] },
  });
  assert.ok(e instanceof ApiError);
  assert.equal(e.status, 400);
  assert.equal(e.code, 'validation_failed');
  assert.equal(e.message, 'invalid body: name: Required');
  assert.equal(e.requestId, 'req-1234abcd');
  assert.deepEqual(e.details, [{ path: 'name' }]);
});

test('gateway / relay shape { code: 404, message } keeps the message and derives a code', () => {
  const e = parseErrorBody(404, { code: 404, message: 'Requested function was not found' });
  assert.equal(e.code, 'http_404');
  assert.equal(e.message, 'Requested function was not found');
  assert.equal(e.requestId, null);
});

test('Supabase Auth shapes: { code, error_code, msg } and the older { error, error_description }', () => {
  const current = parseErrorBody(400, { code: 400, error_code: 'invalid_credentials', msg: 'Invalid login credentials' });
  assert.equal(current.code, 'invalid_credentials');
  assert.equal(current.message, 'Invalid login credentials');
  const older = parseErrorBody(400, { error: 'invalid_grant', error_description: 'Invalid Refresh Token' });
  assert.equal(older.code, 'invalid_grant');
  assert.equal(older.message, 'Invalid Refresh Token');
});

test('request id: body first, then X-Request-Id, then the id the client sent', () => {
  const headers = new Headers({ 'x-request-id': 'hdr-5678efgh' });
  assert.equal(
    parseErrorBody(500, { error: { code: 'x', message: 'm', request_id: 'body-1111' } }, headers, 'mine').requestId,
    'body-1111',
  );
  assert.equal(parseErrorBody(502, { code: 502, message: 'down' }, headers, 'mine').requestId, 'hdr-5678efgh');
  assert.equal(parseErrorBody(502, { code: 502, message: 'down' }, new Headers(), 'mine-9999').requestId, 'mine-9999');
});

test('plain text is shown, HTML error pages and empty bodies fall back to a wording per status', () => {
  assert.equal(parseErrorBody(503, 'upstream timed out').message, 'upstream timed out');
  assert.equal(parseErrorBody(502, '<html><body>Bad gateway</body></html>').message, statusMessage(502));
  assert.equal(parseErrorBody(429, '').message, statusMessage(429));
  assert.equal(parseErrorBody(429, '').code, 'http_429');
  assert.match(statusMessage(403), /permission/);
  assert.match(statusMessage(418), /HTTP 418/);
});

test('very long messages are clipped', () => {
  const e = parseErrorBody(500, { error: { code: 'x', message: 'a'.repeat(2000) } });
  assert.equal(e.message.length, 500);
  assert.ok(e.message.endsWith('…'));
});

test('apiErrorFromResponse reads JSON and text bodies and the header id', async () => {
  const json = new Response(JSON.stringify({ error: { code: 'forbidden', message: 'owners only' } }), {
    status: 403,
    headers: { 'content-type': 'application/json', 'x-request-id': 'abc12345' },
  });
  const e = await apiErrorFromResponse(json);
  assert.deepEqual([e.status, e.code, e.message, e.requestId], [403, 'forbidden', 'owners only', 'abc12345']);
  const text = await apiErrorFromResponse(new Response('not json {', { status: 500 }), 'sent-id-1');
  assert.deepEqual([text.message, text.requestId], ['not json {', 'sent-id-1']);
});

test('toApiError: auth errors keep status and code; fetch failures become network errors', () => {
  const authError = Object.assign(new Error('User already registered'), { name: 'AuthApiError', status: 422, code: 'user_already_exists' });
  const e = toApiError(authError);
  assert.deepEqual([e.status, e.code, e.message], [422, 'user_already_exists', 'User already registered']);
  const retryable = Object.assign(new Error('Failed to fetch'), { name: 'AuthRetryableFetchError', status: 0 });
  assert.equal(toApiError(retryable).code, 'network_error');
  assert.equal(toApiError(new TypeError('fetch failed')).code, 'network_error');
  assert.equal(toApiError('boom').message, 'boom');
  const same = new ApiError({ status: 409, code: 'conflict', message: 'x' });
  assert.equal(toApiError(same), same);
});
