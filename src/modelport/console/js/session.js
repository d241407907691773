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
