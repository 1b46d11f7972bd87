// The console's one way to the broker: fetch() on the same origin with the
// web session cookie (HttpOnly: this code never sees it) and the session's
// CSRF token in X-ZT-CSRF, which the API needs with the cookie.

let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

// An API refusal: HTTP status, the API's error code and its message.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (csrf) headers['X-ZT-CSRF'] = csrf;
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'the broker cannot be reached');
  }
  let data = null;
  try {
    data = await r.json();
  } catch {
    data = null;
  }
  if (!r.ok) {
    const e = data && data.error ? data.error : {};
    throw new ApiError(r.status, e.code || 'http_error',
      e.message || `the request failed (HTTP ${r.status})`);
  }
  return data;
}
