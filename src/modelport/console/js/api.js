// JSON calls to the modelport API with the session's key; errors carry the API's envelope.
// Every call goes through `send`: a server out of reach becomes a translated "cannot reach
// the server" error, and a 401 (the key revoked or expired mid-session) signs the user out.

import { t } from "./i18n.js";
import { getCsrf, getKey } from "./session.js";

// The server root, from this module's own address (/console/js/api.js → /), so a console
// served under a path prefix calls the API under the same prefix.
export const ROOT = new URL("../../", import.meta.url);

export function url(path) {
  return new URL(path.replace(/^\//, ""), ROOT).href;
}

// Error codes the console words itself (the server's message is English).
const WORDED = new Set([
  "invalid_api_key",
  "key_revoked",
  "key_expired",
  "user_disabled",
  "missing_api_key",
  "network",
  // console sign-in (accounts)
  "signin_failed",
  "signin_throttled",
  "signup_closed",
  "username_taken",
  "invalid_username",
  "weak_password",
  "session_expired",
  "csrf_failed",
]);

export class ApiError extends Error {
  constructor(status, message, code) {
    super(WORDED.has(code) ? t(`error.${code}`) : message);
    this.status = status;
    this.code = code;
  }
}

let onUnauthorized = null;

// main.js: what to do when a signed-in call gets a 401 (back to sign-in, with the reason).
export function setUnauthorizedHandler(handler) {
  onUnauthorized = handler;
}

export function notifyUnauthorized(error) {
  if (error?.status === 401 && onUnauthorized) onUnauthorized(error);
}

export async function apiError(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    message = body?.error?.message ?? body?.description ?? message;
    code = body?.error?.code ?? null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

export function authHeaders(key = getKey()) {
  if (key) return { Authorization: `Bearer ${key}` };
  // Signed in with an account: the session cookie goes by itself (same origin); the CSRF
  // token goes with every call, which the server requires on unsafe ones.
  const csrf = getCsrf();
  return csrf ? { "X-CSRF-Token": csrf } : {};
}

// fetch, with the network failure worded; a 401 on the session's own key signs out.
export async function send(path, init = {}, { key } = {}) {
  let response;
  try {
    response = await fetch(url(path), { credentials: "same-origin", ...init });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, t("error.network"), "network");
  }
  if (response.status === 401 && key === undefined) notifyUnauthorized(await apiError(response.clone()));
  return response;
}

export async function api(path, { method = "GET", body, signal, key } = {}) {
  const headers = authHeaders(key);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await send(
    path,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal },
    { key },
  );
  if (!response.ok) throw await apiError(response);
  return response.json();
}
