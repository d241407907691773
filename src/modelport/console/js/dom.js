// A tiny element builder: h("div", {class: "x", onclick: fn}, "text", child).

import { t } from "./i18n.js";

export { formatTime } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, ...children);
  return el;
}

export function append(parent, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, ...children);
}

// A labelled form field; `input` is any control.
export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint && h("small", { class: "muted" }, hint));
}

// An error line that a page shows in place; `show(err)` fills it, `show(null)` hides it.
// A server out of reach gets a Retry button that renders the page again.
export function errorLine() {
  const el = h("p", { class: "error", role: "alert", hidden: true });
  el.show = (err) => {
    el.hidden = !err;
    replace(el, err ? (err.message ?? String(err)) : "");
    if (err?.code === "network") {
      el.append(" ", h("button", { type: "button", class: "secondary", "data-testid": "retry",
        onclick: () => window.dispatchEvent(new Event("console:retry")) }, t("common.retry")));
    }
  };
  return el;
}

// A "Loading…" placeholder row for a table body.
export function loadingRow(colspan) {
  return h("tr", {}, h("td", { colspan, class: "muted" }, t("common.loading")));
}

// A table that scrolls sideways on a narrow screen, with a fade and a "scroll →" hint while
// columns are hidden to the right.
export function scrollTable(table) {
  const wrap = h("div", { class: "table-wrap", "data-testid": "table-wrap" }, table);
  const hint = h("div", { class: "scroll-hint", "data-testid": "scroll-hint", "aria-hidden": "true" }, t("common.scroll_hint"));
  const box = h("div", { class: "table-box" }, wrap, hint);
  const update = () => {
    const more = wrap.scrollWidth - wrap.clientWidth - wrap.scrollLeft > 2;
    box.classList.toggle("more", more);
  };
  wrap.addEventListener("scroll", update, { passive: true });
  new ResizeObserver(update).observe(wrap);
  new MutationObserver(update).observe(table, { childList: true, subtree: true });
  return box;
}
