import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEventStream } from '../static/stream.js';

// A fake server: each call takes the next scripted answer. An answer is a
// status or {status, chunks, headers, hold}: chunks are sent then the body
// ends (a drop), unless hold keeps it open.
function fakeFetch(answers) {
  const calls = [];
  const fn = async (url, init) => {
    calls.push({ url, headers: { ...init.headers }, credentials: init.credentials });
    let a = answers.shift();
    if (a === undefined) a = { status: 200, chunks: [], hold: true };
    if (typeof a === 'number') a = { status: a };
    const headers = new Headers(a.headers || (a.status === 200 ? { 'Content-Type': 'text/event-stream' } : { 'Content-Type': 'application/json' }));
    const enc = new TextEncoder();
    const body = new ReadableStream({
      start(c) {
        for (const ch of a.chunks || []) c.enqueue(enc.encode(ch));
        if (a.status !== 200) c.enqueue(enc.encode(JSON.stringify({ code: a.status, message: `status ${a.status}` })));
        if (!a.hold) c.close();
        init.signal.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')));
      },
    });
    return new Response(body, { status: a.status, headers });
  };
  return { fn, calls };
}

function waitFor(cond, ms = 2000) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - t0 > ms) return reject(new Error('timed out'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const fast = { initial: 10, max: 40, idleTimeout: 1000 };

test('sends the key and Accept, reconnects after a drop with Last-Event-ID', async () => {
  const { fn, calls } = fakeFetch([
    { status: 200, chunks: ['id: 3\ndata: {"n":1}\n\n', 'id: 4\ndata: {"n":2}\n\n'] },
    { status: 200, chunks: ['id: 5\ndata: {"n":3}\n\n'], hold: true },
  ]);
  const events = [];
  const states = [];
  const s = openEventStream({
    url: '/v1/external/events/stream',
    fetch: fn,
    backoff: fast,
    onEvent: (e) => events.push(e),
    onState: (st) => states.push(st),
  });
  await waitFor(() => events.length === 3);
  s.close();
  assert.equal(calls.length, 2);
  assert.equal(calls[0].url, '/v1/external/events/stream');
  assert.equal(calls[0].headers.Authorization, undefined, 'the session cookie authenticates, never a key');
  assert.equal(calls[0].credentials, 'same-origin');
  assert.equal(calls[0].headers.Accept, 'text/event-stream');
  assert.equal(calls[0].headers['Last-Event-ID'], undefined);
  assert.equal(calls[1].headers['Last-Event-ID'], '4');
  assert.deepEqual(events.map((e) => JSON.parse(e.data).n), [1, 2, 3]);
  assert.equal(s.lastEventId(), '5');
  assert.deepEqual(states, ['connecting', 'live', 'reconnecting', 'connecting', 'live', 'closed']);
});

test('starts from a given last event id', async () => {
  const { fn, calls } = fakeFetch([]);
  const s = openEventStream({ url: '/s', fetch: fn, backoff: fast, lastEventId: '17', onEvent() {} });
  await waitFor(() => calls.length === 1);
  s.close();
  assert.equal(calls[0].headers['Last-Event-ID'], '17');
});

test('404 means no stream: it reports unsupported and stops', async () => {
  const { fn, calls } = fakeFetch([404]);
  const states = [];
  openEventStream({ url: '/s', fetch: fn, backoff: fast, onEvent() {}, onState: (st, d) => states.push([st, d]) });
  await waitFor(() => states.some(([st]) => st === 'unsupported'));
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(calls.length, 1);
  assert.deepEqual(states.at(-1), ['unsupported', { status: 404 }]);
});

test('401 and 403 stop with the error message', async () => {
  for (const status of [401, 403]) {
    const { fn, calls } = fakeFetch([status]);
    const states = [];
    openEventStream({ url: '/s', fetch: fn, backoff: fast, onEvent() {}, onState: (st, d) => states.push([st, d]) });
    await waitFor(() => states.some(([st]) => st === 'denied'));
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(calls.length, 1);
    assert.deepEqual(states.at(-1), ['denied', { status, error: `status ${status}` }]);
  }
});

test('server errors and network failures back off exponentially, capped', async () => {
  const answers = [500, 502, 503, 500, 500];
  const { fn, calls } = fakeFetch(answers);
  const delays = [];
  const s = openEventStream({
    url: '/s', fetch: fn, backoff: fast, random: () => 1, onEvent() {},
    onState: (st, d) => { if (st === 'reconnecting') delays.push(d.delay); },
  });
  await waitFor(() => calls.length === 6);
  s.close();
  assert.deepEqual(delays, [10, 20, 40, 40, 40]);
});

test('a 200 that is not an event stream is retried, not parsed', async () => {
  const { fn, calls } = fakeFetch([{ status: 200, headers: { 'Content-Type': 'text/html' }, chunks: ['data: x\n\n'] }]);
  const events = [];
  const s = openEventStream({ url: '/s', fetch: fn, backoff: fast, onEvent: (e) => events.push(e) });
  await waitFor(() => calls.length === 2);
  s.close();
  assert.deepEqual(events, []);
});

test('a silent connection (a missed heartbeat) says reconnecting, then resumes', async () => {
  const { fn, calls } = fakeFetch([{ status: 200, chunks: ['id: 9\ndata: x\n\n'], hold: true }]);
  const states = [];
  const s = openEventStream({ url: '/s', fetch: fn, backoff: { ...fast, idleTimeout: 50 }, onEvent() {}, onState: (st, d) => states.push([st, d]) });
  await waitFor(() => calls.length === 2);
  s.close();
  assert.equal(calls[1].headers['Last-Event-ID'], '9');
  const silent = states.find(([st]) => st === 'reconnecting');
  assert.equal(silent[1].silent, true);
});

test('the default idle timeout allows one missed 15 s heartbeat, not two', async () => {
  const { defaultBackoff } = await import('../static/stream.js');
  assert.ok(defaultBackoff.idleTimeout > 15000 && defaultBackoff.idleTimeout < 30000);
});

test('409 to a Last-Event-ID ahead of the log: resync, then reconnect without it', async () => {
  const { fn, calls } = fakeFetch([409, { status: 200, chunks: ['id: 2\ndata: y\n\n'], hold: true }]);
  const states = [];
  const events = [];
  const s = openEventStream({ url: '/s', fetch: fn, backoff: fast, lastEventId: '9000', onEvent: (e) => events.push(e), onState: (st) => states.push(st) });
  await waitFor(() => events.length === 1);
  s.close();
  assert.equal(calls[0].headers['Last-Event-ID'], '9000');
  assert.equal(calls[1].headers['Last-Event-ID'], undefined);
  assert.deepEqual(states, ['connecting', 'resync', 'connecting', 'live', 'closed']);
});

test('the server retry field sets the base delay; 429 waits Retry-After', async () => {
  const { fn, calls } = fakeFetch([
    { status: 200, chunks: ['retry: 30\n\n'] },
    { status: 429, headers: { 'Retry-After': '0' } },
  ]);
  const delays = [];
  const s = openEventStream({
    url: '/s', fetch: fn, backoff: { ...fast, max: 1000 }, random: () => 1, onEvent() {},
    onState: (st, d) => { if (st === 'reconnecting') delays.push(d.delay); },
  });
  await waitFor(() => calls.length === 3);
  s.close();
  assert.deepEqual(delays, [30, 60]); // Retry-After 0 is not a wait: the backoff applies
});
