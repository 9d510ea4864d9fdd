// The live event stream client (contract section 8): fetch() with the
// session cookie, parsed with SSEParser, reconnecting with Last-Event-ID
// and exponential backoff after a drop. The server sends a comment every
// 15 s: a stream silent for longer than idleTimeout (20 s) has lost its
// server, whatever the socket says, and is reconnected.
//
// States reported through onState(state, detail):
//   connecting            a request is on its way
//   live                  the server answered 200 text/event-stream
//   reconnecting {delay}  the stream dropped, failed or went silent
//                         ({silent: true}); retrying after delay ms
//   resync                the server answered 409 to our Last-Event-ID (it
//                         is ahead of the server's log, e.g. a restarted
//                         in-memory server): the caller reloads its lists;
//                         the stream reconnects at once without the id
//   unsupported {status}  the server has no stream (404): the caller should poll
//   denied {status, error} 401 or 403: retrying would not help
//   closed                close() was called

import { SSEParser } from './sse.js';

export const defaultBackoff = { initial: 1000, max: 30000, idleTimeout: 20000 };

/**
 * @param {object} o
 * @param {string} o.url
 * @param {(ev: {type: string, data: string, id: string}) => void} o.onEvent
 * @param {(state: string, detail?: object) => void} [o.onState]
 * @param {string} [o.lastEventId]     resume after this event
 * @param {typeof fetch} [o.fetch]
 * @param {{initial: number, max: number, idleTimeout: number}} [o.backoff]
 * @param {() => number} [o.random]
 * @returns {{close: () => void, lastEventId: () => string}}
 */
export function openEventStream(o) {
  const doFetch = o.fetch || globalThis.fetch.bind(globalThis);
  const onState = o.onState || (() => {});
  const backoff = { ...defaultBackoff, ...(o.backoff || {}) };
  const random = o.random || Math.random;
  let closed = false;
  let attempt = 0;
  let retryHint = 0; // the server's `retry:` in ms, if any
  let controller = null;
  let timer = null;
  const parser = new SSEParser(
    (ev) => {
      try {
        o.onEvent(ev);
      } catch (err) {
        console.error('event handler failed', err);
      }
    },
    (ms) => {
      retryHint = ms;
    },
  );
  parser.lastEventId = o.lastEventId || '';

  function schedule(extra) {
    if (closed) return;
    let delay;
    if (extra && extra.retryAfter) {
      delay = extra.retryAfter;
    } else {
      const base = Math.min(backoff.max, (retryHint || backoff.initial) * 2 ** attempt);
      delay = Math.round(base / 2 + (random() * base) / 2); // "equal jitter"
    }
    attempt++;
    onState('reconnecting', { delay, attempt, ...(extra || {}) });
    timer = setTimeout(connect, delay);
  }

  async function connect() {
    timer = null;
    if (closed) return;
    controller = new AbortController();
    const headers = { Accept: 'text/event-stream', 'Cache-Control': 'no-cache' };
    if (parser.lastEventId) headers['Last-Event-ID'] = parser.lastEventId;
    onState('connecting', { lastEventId: parser.lastEventId });
    let res;
    try {
      res = await doFetch(o.url, { headers, signal: controller.signal, cache: 'no-store', credentials: 'same-origin' });
    } catch (err) {
      if (!closed) schedule({ error: String(err && err.message ? err.message : err) });
      return;
    }
    if (closed) return;
    if (res.status === 404) {
      onState('unsupported', { status: 404 });
      return;
    }
    if (res.status === 409 && parser.lastEventId) {
      if (res.body) res.body.cancel().catch(() => {});
      parser.lastEventId = '';
      onState('resync', { status: 409 });
      timer = setTimeout(connect, 0);
      return;
    }
    if (res.status === 401 || res.status === 403) {
      onState('denied', { status: res.status, error: await errorBody(res) });
      return;
    }
    if (res.status === 429) {
      const s = parseInt(res.headers.get('Retry-After') || '', 10);
      schedule({ status: 429, retryAfter: Number.isFinite(s) && s > 0 ? s * 1000 : 0 });
      return;
    }
    const ctype = res.headers.get('Content-Type') || '';
    if (!res.ok || !ctype.startsWith('text/event-stream') || !res.body) {
      if (res.body) res.body.cancel().catch(() => {});
      schedule({ status: res.status });
      return;
    }
    onState('live', { lastEventId: parser.lastEventId });
    const silent = await read(res.body);
    if (!closed) schedule(silent ? { silent: true } : { dropped: true });
  }

  /** Reads until the stream ends; returns true when it went silent. */
  async function read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let idle = null;
    let silent = false;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        silent = true;
        controller.abort();
      }, backoff.idleTimeout);
    };
    armIdle();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        armIdle();
        if (value) {
          attempt = 0; // the connection works: the next drop starts the backoff over
          parser.push(value);
        }
      }
    } catch {
      // aborted (idle, close) or the network dropped
    } finally {
      clearTimeout(idle);
      parser.end();
    }
    return silent;
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      if (controller) controller.abort();
      onState('closed');
    },
    lastEventId: () => parser.lastEventId,
  };
}

async function errorBody(res) {
  try {
    const b = await res.json();
    if (b && typeof b.message === 'string') return b.message;
  } catch {
    // not JSON
  }
  return `HTTP ${res.status}`;
}
