// Logs: the request log with filters, keyset paging and a CSV of the same filters. Users see
// their own requests, admins everyone's: the API decides by the caller.

import { h, replace } from "../dom.js";
import { api } from "../api.js";
import { formatMoney, formatNumber, formatTime, t } from "../i18n.js";
import { downloadCsv } from "./download.js";
import { logFilters } from "./log_filters.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

const PAGE = 50;

function ms(value) {
  return value === null || value === undefined ? "—" : t("logs.ms", { ms: value });
}

function row(entry) {
  const ok = entry.status < 400;
  return h("tr", { "data-testid": "log-row" },
    h("td", { class: "small nowrap" }, formatTime(entry.created_at)),
    h("td", {}, entry.username ?? "—"),
    h("td", { "data-testid": "log-key-name" }, entry.key_name ?? t("logs.deletedKey"), h("div", { class: "muted small" }, entry.key_id)),
    h("td", {}, entry.model, entry.stream ? h("span", { class: "muted small" }, ` ${t("logs.streamTag")}`) : null),
    h("td", { "data-testid": "log-channel" }, entry.channel_name ?? entry.channel ?? "—",
      entry.channel_name && entry.channel ? h("div", { class: "muted small" }, entry.channel) : null),
    h("td", {}, h("span", { class: `badge ${ok ? "online" : "fail"}`, "data-testid": "log-status" }, String(entry.status)),
      entry.error_code ? h("div", { class: "muted small" }, entry.error_code) : null),
    h("td", { class: "small" }, t("logs.tokensLine", { prompt: formatNumber(entry.prompt_tokens), completion: formatNumber(entry.completion_tokens) })),
    h("td", { "data-testid": "log-cost" }, formatMoney(entry.cost, entry.currency)),
    h("td", { class: "small" }, ms(entry.latency_ms)),
    h("td", { class: "small" }, ms(entry.ttft_ms)));
}

export function renderLogs(main, { me }) {
  const base = me.is_admin ? "/admin/usage/requests" : "/v1/usage/requests";
  const note = statusLine("log-note");
  const rows = tableBody(10, "log-rows");
  const more = h("button", { type: "button", class: "secondary", hidden: true, "data-testid": "log-more" }, t("pages.more"));
  const exportButton = h("button", { type: "button", class: "secondary", "data-testid": "log-export" }, t("logs.export"));
  const filters = logFilters({ admin: me.is_admin, onApply: () => load() });
  let shown = [];
  let next = null;
  let live = true;

  async function fetchPage(cursor) {
    const params = filters.params();
    params.set("limit", String(PAGE));
    if (cursor) params.set("after", cursor);
    const page = await api(`${base}?${params}`);
    next = page.has_more ? page.next : null;
    more.hidden = !next;
    return page.data;
  }

  async function load() {
    note.clear();
    more.hidden = true;
    await rows.load(async () => {
      shown = await fetchPage(null);
      return live ? shown.map(row) : [];
    }, t("logs.none"));
  }

  more.addEventListener("click", async () => {
    note.clear();
    more.disabled = true;
    try {
      shown = shown.concat(await fetchPage(next));
      rows.show(shown.map(row), t("logs.none"));
    } catch (err) {
      note.say(err.message, true);
    } finally {
      more.disabled = false;
    }
  });

  exportButton.addEventListener("click", async () => {
    note.clear();
    exportButton.disabled = true;
    try {
      await downloadCsv(`${base}.csv?${filters.params()}`, "requests.csv");
    } catch (err) {
      note.say(err.message, true);
    } finally {
      exportButton.disabled = false;
    }
  });

  replace(main,
    h("div", { class: "row spread" }, h("h1", {}, t("logs.title")), exportButton),
    h("p", { class: "muted" }, me.is_admin ? t("logs.scopeAll") : t("logs.scopeOwn")),
    filters, note,
    h("section", { class: "card" },
      scrollTable([t("logs.time"), t("logs.user"), t("logs.key"), t("logs.model"), t("logs.channel"), t("logs.status"),
        t("logs.tokens"), t("logs.cost"), t("logs.latency"), t("logs.ttft")], rows, { class: "wide", "data-testid": "log-table" }),
      more));
  load();
  return () => { live = false; };
}
