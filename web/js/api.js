// The console's one way to the broker: fetch() on the same origin with the
// web session cookie (HttpOnly: this code never sees it) and the session's
// CSRF token in X-ZT-CSRF, which the API needs with the cookie.

let csrf = null;
let sessionEnded = null;

export function setCsrf(token) {
  csrf = token;
}

// fn is called once when a request of a live session is answered 401 (the
// session ended: idle, logged out elsewhere, locked), so that the page
// goes back to the sign-in form from whatever view or timer asked.
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

// The session's CSRF token (or null): a WebSocket carries it as a
// subprotocol, zt-csrf.<token>, since a page cannot set its headers.
export function csrfToken() {
  return csrf;
}

// An API refusal: HTTP status, the API's error code and its message; error
// is the API's error object as sent (some carry more, e.g. a role's line).
export class ApiError extends Error {
  constructor(status, code, message, error = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.error = error;
  }
}

// body: JSON to send, or with a type, the bytes (a Blob) of that type.
async function send(method, path, body, accept, type) {
  const headers = { Accept: accept };
  if (csrf) headers['X-ZT-CSRF'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    init.body = type ? body : JSON.stringify(body);
  }
  try {
    return await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'the broker cannot be reached');
  }
}

// The 401 codes that say the session itself is gone (a wrong or used
// one-time code is a 401 too, and the session lives on).
const ENDED = new Set(['invalid_token', 'missing_token', 'token_expired', 'token_revoked']);

async function refusal(r) {
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  const e = data && data.error ? data.error : {};
  if (r.status === 401 && ENDED.has(e.code) && csrf && sessionEnded) {
    csrf = null;
    setTimeout(sessionEnded, 0);
  }
  return new ApiError(r.status, e.code || 'http_error',
    e.message || `the request failed (HTTP ${r.status})`, e);
}

export async function api(method, path, body) {
  const r = await send(method, path, body, 'application/json');
  if (!r.ok) throw await refusal(r);
  try {
    return await r.json();
  } catch {
    return null;
  }
}

// A PUT of bytes (a file to a transfer link): the answer's JSON.
export async function apiPut(path, blob) {
  const r = await send('PUT', path, blob, 'application/json', 'application/octet-stream');
  if (!r.ok) throw await refusal(r);
  return r.json();
}

// A GET whose answer is not JSON (an export): the body as a Blob.
export async function apiBlob(path, accept) {
  const r = await send('GET', path, undefined, accept);
  if (!r.ok) throw await refusal(r);
  return r.blob();
}
