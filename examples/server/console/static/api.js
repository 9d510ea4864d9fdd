// The Sety API client: JSON over fetch, authenticated by the session
// cookie (HttpOnly: this code never sees it). Writes carry the CSRF header
// the server requires of cookie-authenticated writes. Only signIn sends a
// key, once.

/** The header a write made with the session cookie must carry. */
export const CSRF_HEADER = 'X-Sety-CSRF';

/** An error answer of the API ({code, message, errors}) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, message, fields = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.fields = fields;
  }

  /** A sentence for people: the API's message, the failing fields, the status. */
  describe() {
    let s = this.message;
    if (this.fields.length) s += ` (${this.fields.map((f) => `${f.field}: ${f.message}`).join('; ')})`;
    if (this.status) s += ` [HTTP ${this.status}]`;
    return s;
  }
}

/**
 * @param {{base: string, fetch?: typeof fetch}} o
 */
export function createClient(o) {
  const doFetch = o.fetch || globalThis.fetch.bind(globalThis);

  async function request(method, path, { query, body, signal, key } = {}) {
    let url = o.base + path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      const qs = q.toString().replace(/%2C/g, ',').replace(/%3B/g, ';');
      if (qs) url += '?' + qs;
    }
    const headers = { Accept: 'application/json' };
    if (key) headers.Authorization = `Bearer ${key}`;
    if (method !== 'GET') headers[CSRF_HEADER] = '1';
    const init = { method, headers, signal, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await doFetch(url, init);
    } catch (err) {
      if (err && err.name === 'AbortError') throw err;
      throw new ApiError(0, 'Cannot reach the Sety server: check your connection');
    }
    const text = await res.text();
    let json = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!res.ok) {
      const message = json && typeof json.message === 'string' ? json.message : `${res.status} ${res.statusText || 'error'}`;
      const err = new ApiError(res.status, capitalize(message), json && Array.isArray(json.errors) ? json.errors : []);
      const ra = parseInt(res.headers.get('Retry-After') || '', 10);
      if (Number.isFinite(ra)) err.retryAfter = ra;
      throw err;
    }
    return json;
  }

  return {
    request,
    get: (path, query, signal) => request('GET', path, { query, signal }),
    post: (path, body) => request('POST', path, { body }),
    /** Exchanges a key for a session cookie; the key is sent this once. */
    signIn: (key) => request('POST', '/sessions', { key }),
    /** The session of the cookie, if any (401 when signed out). */
    session: () => request('GET', '/sessions/current'),
    /** Ends the session on the server; the answer deletes the cookie. */
    signOut: () => request('DELETE', '/sessions/current'),
  };
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
