// Light or dark: "auto" follows prefers-color-scheme (console.css), "light"/"dark" override it
// through <html data-theme>; the choice is kept in localStorage.

const STORAGE_KEY = "modelport.theme";
export const THEMES = ["auto", "light", "dark"];
const listeners = new Set();

export function getTheme() {
  const saved = localStorage.getItem(STORAGE_KEY);
  return THEMES.includes(saved) ? saved : "auto";
}

export function setTheme(theme) {
  if (!THEMES.includes(theme)) return;
  localStorage.setItem(STORAGE_KEY, theme);
  apply(theme);
}

// Whether the page is dark now (for charts, whose colours are not CSS).
export function isDark() {
  const theme = getTheme();
  if (theme !== "auto") return theme === "dark";
  return window.matchMedia("(prefers-color-scheme: dark)").matches;
}

export function onThemeChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function apply(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  for (const listener of listeners) listener(isDark());
}

window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => apply(getTheme()));
apply(getTheme());
