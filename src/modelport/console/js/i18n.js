// The console's words: `t(key, params)` looks a key up in the chosen language's catalogue
// (js/locales/*.js), fills `{name}` from params and picks a plural form by `{n}`; numbers,
// money and dates go through Intl in the same locale. A new page only needs its keys.

import en from "./locales/en.js";
import zhCN from "./locales/zh-CN.js";

const CATALOGUES = { en, "zh-CN": zhCN };
export const LOCALES = Object.keys(CATALOGUES);
const STORAGE_KEY = "modelport.locale";
const listeners = new Set();

// zh, zh-CN, zh-Hans… → zh-CN; anything else → en.
export function pickLocale(languages) {
  for (const tag of languages ?? []) {
    if (/^zh\b/i.test(tag)) return "zh-CN";
    if (/^en\b/i.test(tag)) return "en";
  }
  return "en";
}

let locale = CATALOGUES[localStorage.getItem(STORAGE_KEY)] ? localStorage.getItem(STORAGE_KEY) : pickLocale(navigator.languages);

export function getLocale() {
  return locale;
}

export function setLocale(next) {
  if (!CATALOGUES[next] || next === locale) return;
  locale = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
  translateStatic();
  for (const listener of listeners) listener(next);
}

export function onLocaleChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function t(key, params = {}) {
  let text = CATALOGUES[locale][key] ?? en[key];
  if (text === undefined) {
    console.warn(`i18n: no message "${key}"`);
    return key;
  }
  if (typeof text === "object") text = text[new Intl.PluralRules(locale).select(params.n ?? 0)] ?? text.other;
  return text.replace(/\{(\w+)\}/g, (_, name) => {
    const value = params[name];
    if (value === undefined || value === null) return "";
    return typeof value === "number" ? formatNumber(value) : String(value);
  });
}

export function formatNumber(value, options) {
  return new Intl.NumberFormat(locale, options).format(value);
}

// Money with its ISO currency code after the amount ("0.42 USD", "3.50 CNY": a bare "$" or
// "¥" would be ambiguous between currencies); small amounts keep 6 decimals.
export function formatMoney(value, currency = "USD") {
  const small = value !== 0 && Math.abs(value) < 0.01;
  const digits = small ? 6 : 2;
  return `${formatNumber(value, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
}

// A timestamp (unix seconds, ms in a Date, or ISO text) in the viewer's zone.
export function formatTime(value) {
  if (value === null || value === undefined) return "—";
  const date = value instanceof Date ? value : typeof value === "number" ? new Date(value * 1000) : new Date(value);
  return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" }).format(date);
}

export function formatDay(date) {
  return new Intl.DateTimeFormat(locale, { month: "short", day: "numeric", timeZone: "UTC" }).format(date);
}

// index.html's fixed words: data-i18n (text), data-i18n-title, data-i18n-aria-label.
export function translateStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  document.title = t("app.title");
}

document.documentElement.lang = locale;
