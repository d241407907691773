// JSON calls to the modelport API with the session's key; errors carry the API's envelope.

import { getKey } from "./session.js";

// The server root, from this module's own address (/console/js/api.js → /), so a console
// served under a path prefix calls the API under the same prefix.
export const ROOT = new URL("../../", import.meta.url);

export function url(path) {
  return new URL(path.replace(/^\//, ""), ROOT).href;
}

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function apiError(response) {
  let message = `${response.status} ${response.statusText}`;
  let code = null;
  try {
    const body = await response.json();
    message = body?.error?.message ?? message;
    code = body?.error?.code ?? null;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

export function authHeaders(key = getKey()) {
  return { Authorization: `Bearer ${key}` };
}

export async function api(path, { method = "GET", body, signal, key } = {}) {
  const headers = authHeaders(key);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url(path), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) throw await apiError(response);
  return response.json();
}
