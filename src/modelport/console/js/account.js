// Signing in with an account: the server keeps the session in an HttpOnly cookie (this script
// never sees it); what the console keeps is the session's CSRF token (session.js), which
// every unsafe call made with the cookie echoes in X-CSRF-Token.

import { apiError, url } from "./api.js";
import { getCsrf, setCsrf } from "./session.js";

async function call(path, { method = "GET", body } = {}) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && getCsrf()) headers["X-CSRF-Token"] = getCsrf();
  const response = await fetch(url(path), {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await apiError(response);
  return response.json();
}

// What the sign-in page offers: {signup, oidc, oidc_label}, and whether this browser's
// cookie is a live session (asked here first: a 401 from /auth/me would be a console error).
export async function authOptions() {
  try {
    return await call("/auth/options");
  } catch {
    return { signup: false, oidc: false, oidc_label: null, signed_in: false };
  }
}

// The signed-in account of this browser's cookie, or null (none, or it ended).
export async function restoreSession() {
  if (!(await authOptions()).signed_in) return null;
  try {
    const session = await call("/auth/me");
    setCsrf(session.csrf_token);
    return session;
  } catch {
    setCsrf(null);
    return null;
  }
}

export async function signInWithPassword(username, password, { signUp = false } = {}) {
  const session = await call(signUp ? "/auth/signup" : "/auth/signin", {
    method: "POST",
    body: { username, password },
  });
  setCsrf(session.csrf_token);
  return session;
}

export async function signOutSession() {
  try {
    await call("/auth/signout", { method: "POST" });
  } finally {
    setCsrf(null);
  }
}

export function oidcLoginUrl() {
  return url("/auth/oidc/login");
}
