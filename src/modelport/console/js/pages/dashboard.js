// Dashboard: requests, tokens and cost per day of the viewer's time zone, the top models,
// and for admins each channel's health (breaker, last hour's error rate, last test).

import { api } from "../api.js";
import { lineChart } from "../charts.js";
import { h, replace } from "../dom.js";
import { formatMoney, formatNumber, formatTime, t } from "../i18n.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

const DAYS = 14;

// The API's calendar days ("YYYY-MM-DD" in the viewer's zone) as the chart's x values: the
// same date at UTC midnight, which is how the charts module labels its axis.
function axisOf(days) {
  return days.map((d) => Date.UTC(...d.date.split(/-/).map((part, i) => Number(part) - (i === 1 ? 1 : 0))) / 1000);
}

function one(label, days, value) {
  return { models: [label], series: { [label]: days.map(value) } };
}

function modelRows(models, currency) {
  return models.map((m) => h("tr", {}, h("td", {}, m.model), h("td", {}, formatNumber(m.requests)),
    h("td", {}, formatNumber(m.total_tokens)), h("td", {}, formatMoney(m.cost, currency))));
}

function percent(rate) {
  return rate === null ? "—" : new Intl.NumberFormat(document.documentElement.lang, { style: "percent", maximumFractionDigits: 1 }).format(rate);
}

function channelRow(c) {
  const test = !c.last_test_at ? t("channels.neverTested")
    : c.last_test_error ? t("channels.testFailed", { error: c.last_test_error }) : t("channels.testOk", { ms: c.last_test_ms });
  return h("tr", { "data-testid": `health-row-${c.name}` },
    h("td", {}, h("strong", {}, c.name), h("div", { class: "muted small" }, c.id)),
    h("td", {}, c.state ? h("span", { class: `badge breaker-${c.state}`, "data-testid": "health-state" }, t(`channels.breaker.${c.state}`)) : "—"),
    h("td", { "data-testid": "health-errors" }, t("dash.errorRate", { rate: percent(c.error_rate), errors: c.recent_errors, requests: c.recent_requests })),
    h("td", { class: "small" }, test, c.last_test_at ? h("div", { class: "muted" }, formatTime(c.last_test_at)) : null));
}

export function renderDashboard(main, { me }) {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const disposers = [];
  const note = statusLine("dash-error");
  const totals = h("p", { class: "totals", "data-testid": "dash-totals" }, t("common.loading"));
  const charts = h("div", { class: "charts" });
  const byRequests = tableBody(4, "dash-top-requests");
  const byCost = tableBody(4, "dash-top-cost");
  const health = tableBody(4, "dash-health");
  const modelHeaders = [t("dash.model"), t("dash.requests"), t("dash.tokens"), t("dash.cost")];
  let live = true;

  async function load() {
    note.clear();
    disposers.splice(0).forEach((dispose) => dispose());
    [byRequests, byCost, health].forEach((body) => body.loading());
    const base = me.is_admin ? "/admin/dashboard" : "/v1/dashboard";
    let board;
    try {
      board = await api(`${base}?${new URLSearchParams({ tz: zone, days: String(DAYS) })}`);
    } catch (err) {
      totals.textContent = "";
      note.say(err.message, true);
      [byRequests, byCost, health].forEach((body) => body.failed(err, load));
      return;
    }
    if (!live) return;
    const money = (v) => formatMoney(v, board.currency);
    const total = board.totals;
    totals.textContent = t("dash.totals", { requests: total.requests, tokens: total.total_tokens, cost: money(total.cost), days: board.days.length });
    const axis = axisOf(board.days);
    replace(charts, ...["requests", "tokens", "cost"].map((name) => h("section", { class: "card" },
      h("div", { class: "chart", "data-testid": `dash-chart-${name}` }))));
    const [requestsBox, tokensBox, costBox] = charts.querySelectorAll(".chart");
    disposers.push(lineChart(requestsBox, { title: t("dash.requestsByDay"), axis, ...one(t("dash.requests"), board.days, (d) => d.requests), format: (v) => formatNumber(v) }));
    disposers.push(lineChart(tokensBox, { title: t("dash.tokensByDay"), axis, ...one(t("dash.tokens"), board.days, (d) => d.total_tokens), format: (v) => formatNumber(v) }));
    disposers.push(lineChart(costBox, { title: t("dash.costByDay"), axis, ...one(t("dash.cost"), board.days, (d) => d.cost), format: money }));
    byRequests.show(modelRows(board.top_models.by_requests, board.currency), t("dash.noUsage"));
    byCost.show(modelRows(board.top_models.by_cost, board.currency), t("dash.noUsage"));
    if (board.channels) health.show(board.channels.map(channelRow), t("dash.noChannels"));
  }

  replace(main,
    h("h1", {}, t("dash.title")),
    h("p", { class: "muted", "data-testid": "dash-zone" }, t("dash.range", { days: DAYS, zone })),
    note, totals, charts,
    h("div", { class: "grid2" },
      h("section", { class: "card" }, h("h2", {}, t("dash.topByRequests")), scrollTable(modelHeaders, byRequests)),
      h("section", { class: "card" }, h("h2", {}, t("dash.topByCost")), scrollTable(modelHeaders, byCost))),
    me.is_admin ? h("section", { class: "card" }, h("h2", {}, t("dash.health")),
      scrollTable([t("dash.channel"), t("dash.breaker"), t("dash.recentErrors"), t("dash.lastTest")], health)) : null);
  load();
  return () => {
    live = false;
    disposers.forEach((dispose) => dispose());
  };
}
