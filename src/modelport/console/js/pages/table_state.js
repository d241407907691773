// A table body's three states beside its rows: loading, failed (with the error and a retry),
// and empty. Pages fill it through `load(fetchRows)` so none of them hangs on "Loading…".

import { h, replace, scrollTable as hinted } from "../dom.js";
import { t } from "../i18n.js";

export function tableBody(columns, testid) {
  const body = h("tbody", { "data-testid": testid });
  const line = (...children) => h("tr", {}, h("td", { colspan: columns, class: "muted" }, ...children));
  let last = null;

  body.loading = () => replace(body, line(t("common.loading")));
  body.failed = (err, retry) => replace(body, line(
    h("span", { class: "error", role: "alert", "data-testid": `${testid}-failed` }, err?.message ?? String(err)), " ",
    retry ? h("button", { type: "button", class: "link", onclick: retry }, t("common.retry")) : null));
  body.show = (rows, emptyText) => replace(body, rows.length ? rows : line(emptyText));
  // Runs `fetchRows` (→ row elements) with the loading line first; a failure stays visible
  // with a retry instead of the old rows.
  body.load = async (fetchRows, emptyText, { quiet = false } = {}) => {
    last = () => body.load(fetchRows, emptyText);
    if (!quiet) body.loading();
    try {
      body.show(await fetchRows(), emptyText);
      return true;
    } catch (err) {
      body.failed(err, last);
      return false;
    }
  };
  return body;
}

// A table with its header row, in the console's sideways-scrolling wrapper and its hint.
export function scrollTable(headers, body, attrs = {}) {
  return hinted(h("table", attrs, h("thead", {}, h("tr", {}, headers.map((text) => h("th", {}, text)))), body));
}

// A status line for what an action did: ok (green) or failed (the error, red); cleared when
// the next action starts so a stale success never sits under a new error.
export function statusLine(testid) {
  const el = h("p", { role: "status", hidden: true, "data-testid": testid });
  el.say = (text, failed = false) => {
    el.textContent = text ?? "";
    el.className = failed ? "error" : "ok";
    el.hidden = !text;
  };
  el.clear = () => el.say("");
  return el;
}
