// The client of respaldo's REST API (/api2/json), kept as Proxmox's GUI keeps its login: the
// ticket in the cookie PVEAuthCookie (sent by the browser with every request), the CSRF
// prevention token in memory and in the header CSRFPreventionToken of every write. A reload
// renews the ticket (POST /access/ticket with the ticket as the password), which also gives
// a fresh CSRF token; it is renewed every 15 minutes while the page is open.

const BASE = '/api2/json';
const COOKIE = 'PVEAuthCookie';
const RENEW_MS = 15 * 60 * 1000;

/** An error answered by the API: HTTP status, the API's message and per-parameter errors. */
export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.errors = errors ?? null;
  }

  /** The message as the API words it, with each parameter's error after it. */
  get text() {
    const lines = [this.message];
    for (const [param, reason] of Object.entries(this.errors ?? {})) {
      lines.push(`${param}: ${reason}`);
    }
    return lines.join('\n');
  }
}

/** Who is logged in: user id, CSRF token, capabilities; listeners hear login and logout. */
class Session {
  constructor() {
    this.username = null;
    this.csrf = null;
    this.cap = {};
    this.listeners = new Set();
    this.renewTimer = null;
  }

  get loggedIn() {
    return this.username !== null;
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    for (const listener of this.listeners) listener(this);
  }

  /** Log in; throws ApiError (401 "authentication failure") on bad credentials. */
  async login(username, password, realm) {
    const params = {username, password};
    if (realm) params.realm = realm;
    const data = await request('POST', '/access/ticket', params, {noAuthRedirect: true});
    this.accept(data);
  }

  /** Renew the ticket in the cookie; false when there is none or it is no longer valid. */
  async resume() {
    const ticket = readCookie();
    if (!ticket) return false;
    const user = ticketUser(ticket);
    if (!user) return false;
    try {
      const data = await request('POST', '/access/ticket', {username: user, password: ticket}, {
        noAuthRedirect: true,
      });
      this.accept(data);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        clearCookie();
        return false;
      }
      throw err;
    }
  }

  accept(data) {
    writeCookie(data.ticket);
    this.username = data.username;
    this.csrf = data.CSRFPreventionToken;
    this.cap = data.cap ?? {};
    clearInterval(this.renewTimer);
    this.renewTimer = setInterval(() => this.resume().catch(() => {}), RENEW_MS);
    this.notify();
  }

  /** Forget the ticket (Proxmox's GUI logs out on the client only). */
  logout() {
    clearInterval(this.renewTimer);
    clearCookie();
    this.username = null;
    this.csrf = null;
    this.cap = {};
    this.notify();
  }

  /** Whether the login's cap grants a privilege in a group ("vms", "storage", "nodes"...). */
  can(group, privilege) {
    return Boolean(this.cap?.[group]?.[privilege]);
  }
}

export const session = new Session();

function readCookie() {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === COOKIE) return decodeURIComponent(rest.join('='));
  }
  return null;
}

function writeCookie(ticket) {
  document.cookie = `${COOKIE}=${encodeURIComponent(ticket)}; path=/; SameSite=Strict; Secure`;
}

function clearCookie() {
  document.cookie = `${COOKIE}=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; SameSite=Strict; Secure`;
}

/** The user id inside a ticket "PVE:user@realm:HEX::signature" (':' is escaped in it). */
function ticketUser(ticket) {
  const match = /^PVE:([^:]+):[0-9A-Fa-f]{8}::/.exec(ticket);
  return match ? decodeURIComponent(match[1]) : null;
}

function encodeParams(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === undefined || value === null) continue;
    search.append(key, typeof value === 'boolean' ? (value ? '1' : '0') : String(value));
  }
  return search;
}

/**
 * One API call. GET and DELETE send params in the query, POST and PUT as a form body (as
 * Proxmox's clients do). Returns `data`; with {withTotal: true} returns {data, total}.
 * Throws ApiError with the API's message; a 401 on a logged-in session logs out.
 */
export async function request(method, path, params = {}, options = {}) {
  const encoded = encodeParams(params);
  let url = BASE + path;
  const init = {method, headers: {}, credentials: 'same-origin'};
  if (method === 'GET' || method === 'DELETE') {
    const query = encoded.toString();
    if (query) url += `?${query}`;
  } else {
    init.body = encoded;
  }
  if (method !== 'GET' && session.csrf) init.headers.CSRFPreventionToken = session.csrf;
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, `Connection error: ${err.message}`);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const message = (payload?.message ?? '').trim() || response.statusText || `HTTP ${response.status}`;
    const error = new ApiError(response.status, message, payload?.errors);
    if (response.status === 401 && session.loggedIn && !options.noAuthRedirect) session.logout();
    throw error;
  }
  if (options.withTotal) return {data: payload?.data, total: payload?.total};
  return payload?.data;
}

export const api = {
  get: (path, params, options) => request('GET', path, params, options),
  post: (path, params, options) => request('POST', path, params, options),
  put: (path, params, options) => request('PUT', path, params, options),
  del: (path, params, options) => request('DELETE', path, params, options),
};

/** A path segment, escaped (volids hold ':' and '/'). */
export function seg(value) {
  return encodeURIComponent(String(value));
}
