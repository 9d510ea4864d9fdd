import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SSEParser, parseSSE } from '../static/sse.js';

function feed(chunks) {
  const events = [];
  const retries = [];
  const p = new SSEParser((e) => events.push(e), (ms) => retries.push(ms));
  for (const c of chunks) p.push(c);
  return { events, retries, parser: p };
}

test('one event with the webhook envelope, id and type', () => {
  const env = '{"id":"evt_1","type":"incident.created","sequence":1,"data":{"incident":{"incident_id":"inc_1"}}}';
  const { events, lastEventId } = parseSSE(`id: 42\nevent: incident.created\ndata: ${env}\n\n`);
  assert.deepEqual(events, [{ type: 'incident.created', data: env, id: '42' }]);
  assert.equal(lastEventId, '42');
  assert.equal(JSON.parse(events[0].data).data.incident.incident_id, 'inc_1');
});

test('the type defaults to message; multi-line data joins with newlines', () => {
  const { events } = parseSSE('data: first\ndata: second\ndata\n\n');
  assert.deepEqual(events, [{ type: 'message', data: 'first\nsecond\n', id: '' }]);
});

test('comments (heartbeats) and blank-data events dispatch nothing', () => {
  const { events } = parseSSE(': heartbeat\n\n:\n\nevent: ping\n\n');
  assert.deepEqual(events, []);
});

test('the type resets after an event; the id persists until changed', () => {
  const { events } = parseSSE('id: 7\nevent: a\ndata: 1\n\ndata: 2\n\nid: 8\ndata: 3\n\n');
  assert.deepEqual(events, [
    { type: 'a', data: '1', id: '7' },
    { type: 'message', data: '2', id: '7' },
    { type: 'message', data: '3', id: '8' },
  ]);
});

test('an empty id resets the last event id; an id with NUL is ignored', () => {
  const { events } = parseSSE('id: 5\ndata: a\n\nid\ndata: b\n\nid: x\0y\ndata: c\n\n');
  assert.deepEqual(events.map((e) => e.id), ['5', '', '']);
});

test('CRLF, CR and LF line endings, split anywhere across chunks', () => {
  const text = 'id: 1\r\ndata: crlf\r\n\r\nid: 2\rdata: cr\r\rid: 3\ndata: lf\n\n';
  const whole = parseSSE(text).events;
  assert.equal(whole.length, 3);
  assert.deepEqual(whole.map((e) => e.data), ['crlf', 'cr', 'lf']);
  for (let size = 1; size <= 5; size++) {
    const chunks = [];
    for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
    assert.deepEqual(feed(chunks).events, whole, `chunks of ${size}`);
  }
});

test('a CR at the end of a chunk and an LF at the start of the next are one line break', () => {
  const { events } = feed(['data: x\r', '\n\r', '\n']);
  assert.deepEqual(events, [{ type: 'message', data: 'x', id: '' }]);
});

test('only one leading space is stripped; a line without a colon is a field name', () => {
  const { events } = parseSSE('data:  two spaces\ndata:none\n\n');
  assert.equal(events[0].data, ' two spaces\nnone');
});

test('a leading BOM is dropped once', () => {
  const { events } = parseSSE('\uFEFFdata: x\n\n');
  assert.deepEqual(events, [{ type: 'message', data: 'x', id: '' }]);
});

test('retry takes digits only; unknown fields are ignored', () => {
  const { retries, events } = feed(['retry: 2500\nretry: soon\nfoo: bar\ndata: y\n\n']);
  assert.deepEqual(retries, [2500]);
  assert.equal(events.length, 1);
});

test('an unterminated event at the end is discarded', () => {
  const { events, parser } = feed(['data: complete\n\ndata: partial\n']);
  parser.end();
  assert.deepEqual(events.map((e) => e.data), ['complete']);
});
