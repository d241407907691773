// The API key lives in sessionStorage only: gone when the tab closes, never in localStorage.

const STORAGE_KEY = "modelport.apiKey";

export function getKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function setKey(key) {
  sessionStorage.setItem(STORAGE_KEY, key);
}

export function clearKey() {
  sessionStorage.removeItem(STORAGE_KEY);
}

// Signed in with an account instead: the cookie is HttpOnly (never seen here); the session's
// CSRF token is kept in memory and asked again from /auth/me after a reload.
let csrf = null;

export function getCsrf() {
  return csrf;
}

export function setCsrf(token) {
  csrf = token || null;
}
