// A Server-Sent Events parser, as the HTML Living Standard defines the
// format (section "Server-sent events", "Parsing an event stream"), for
// streams read with fetch(): the browser's EventSource cannot send an
// Authorization header.
//
// Feed it decoded text in chunks of any size; it calls onEvent for every
// dispatched event with {type, data, id} and onRetry with a reconnection
// delay in milliseconds when the server sends `retry:`. Pure: no I/O.

export class SSEParser {
  /**
   * @param {(ev: {type: string, data: string, id: string}) => void} onEvent
   * @param {(ms: number) => void} [onRetry]
   */
  constructor(onEvent, onRetry = () => {}) {
    this.onEvent = onEvent;
    this.onRetry = onRetry;
    /** The last event ID seen, kept across events (and reconnections). */
    this.lastEventId = '';
    this.buffer = '';
    this.data = '';
    this.type = '';
    this.started = false;
    this.pendingCR = false; // the previous chunk ended in CR: a following LF belongs to it
  }

  /** Adds decoded text. */
  push(text) {
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.pendingCR && text.startsWith('\n')) text = text.slice(1);
    this.pendingCR = false;
    this.buffer += text;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      let end;
      if (cr === -1 && lf === -1) break;
      if (cr === -1 || (lf !== -1 && lf < cr)) end = lf;
      else end = cr;
      const line = this.buffer.slice(start, end);
      let next = end + 1;
      if (this.buffer[end] === '\r') {
        if (next < this.buffer.length) {
          if (this.buffer[next] === '\n') next++;
        } else {
          this.pendingCR = true;
        }
      }
      this.line(line);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  /**
   * Ends the stream: an unterminated last line or event is discarded, as
   * the standard says (an event is dispatched only at a blank line).
   */
  end() {
    this.buffer = '';
    this.data = '';
    this.type = '';
    this.pendingCR = false;
    this.started = false;
  }

  line(line) {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return; // comment (heartbeats)
    const colon = line.indexOf(':');
    let field = line;
    let value = '';
    if (colon !== -1) {
      field = line.slice(0, colon);
      value = line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
    }
    switch (field) {
      case 'event':
        this.type = value;
        break;
      case 'data':
        this.data += value + '\n';
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.onRetry(parseInt(value, 10));
        break;
      default: // unknown fields are ignored
    }
  }

  dispatch() {
    if (this.data === '') {
      this.type = '';
      return;
    }
    const ev = { type: this.type || 'message', data: this.data.slice(0, -1), id: this.lastEventId };
    this.data = '';
    this.type = '';
    this.onEvent(ev);
  }
}

/** Parses a whole stream's text: a helper for tests and tools. */
export function parseSSE(text) {
  const events = [];
  const p = new SSEParser((e) => events.push(e));
  p.push(text);
  return { events, lastEventId: p.lastEventId };
}
