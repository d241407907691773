// Usage: tokens and cost by day and by model (charts), totals by model, recent requests, all
// in the viewer's time zone (sent as `tz`). Admins see every key's usage; other keys their own.

import { api } from "../api.js";
import { dayAxis, lineChart, seriesByModel } from "../charts.js";
import { errorLine, formatTime, h, loadingRow, replace, scrollTable } from "../dom.js";
import { formatMoney, formatNumber, t } from "../i18n.js";
import { productKinds, unitsOf } from "../units.js";
import { renderRedeem } from "./redeem.js";

const DAYS = 30;

export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function renderUsage(main, { me }) {
  const disposers = [];
  const error = errorLine();
  const zone = viewerZone();
  const tokensChart = h("div", { class: "chart", "data-testid": "chart-tokens" }, h("p", { class: "muted" }, t("common.loading")));
  const costChart = h("div", { class: "chart", "data-testid": "chart-cost" });
  const byModel = h("tbody", { "data-testid": "usage-by-model" }, loadingRow(5));
  const recent = h("tbody", { "data-testid": "recent-requests" }, loadingRow(6));
  const totals = h("p", { class: "totals", "data-testid": "usage-totals" });
  const th = (key, attrs = {}) => h("th", attrs, t(key));

  replace(
    main,
    h("h1", {}, t("usage.title")),
    h("p", { class: "muted" }, t(me.is_admin ? "usage.scope_all" : "usage.scope_own", { days: DAYS, zone })),
    error,
    totals,
    h("div", { class: "charts" }, h("section", { class: "card" }, tokensChart), h("section", { class: "card" }, costChart)),
    h("section", { class: "card" }, h("h2", {}, t("usage.by_model")),
      scrollTable(h("table", {},
        h("thead", {}, h("tr", {}, th("usage.col.model"), th("usage.col.requests"), th("usage.col.prompt"),
          th("usage.col.completion"), th("usage.col.cost"))),
        byModel))),
    h("section", { class: "card" }, h("h2", {}, t("usage.recent")),
      scrollTable(h("table", {},
        h("thead", {}, h("tr", {}, th("usage.col.time"), th("usage.col.model"), th("usage.col.status"),
          th("usage.col.latency"), th("usage.col.tokens"), th("usage.col.cost"))),
        recent))),
    renderRedeem(),
  );

  async function load() {
    const axis = dayAxis(DAYS);
    const first = new Date();
    first.setHours(0, 0, 0, 0);
    first.setDate(first.getDate() - (DAYS - 1));
    const since = first.toISOString(); // the viewer's midnight, as a UTC instant
    const base = me.is_admin ? "/admin/usage" : "/v1/usage";
    const requests = me.is_admin ? "/admin/usage/requests?limit=50" : "/v1/usage/requests?limit=50";
    const query = `since=${encodeURIComponent(since)}&tz=${encodeURIComponent(zone)}`;
    const [daily, models, log, cards, board] = await Promise.all([
      api(`${base}?group_by=day,model&${query}`),
      api(`${base}?group_by=model&${query}`),
      api(requests),
      api("/v1/models").catch(() => null), // only to tell image models apart
      api(`/v1/dashboard?days=1&tz=${encodeURIComponent(zone)}`).catch(() => null), // the currency
    ]);
    const currency = board?.currency ?? log.data[0]?.currency ?? "USD";
    const money = (value) => formatMoney(value, currency);
    const kinds = productKinds(cards, log.data);
    const units = (r) => {
      const text = unitsOf(r, kinds);
      return text && h("div", { class: "muted small", "data-testid": "units" }, text);
    };
    const sum = daily.totals;
    totals.textContent = t("usage.totals", { requests: t("usage.n_requests", { n: sum.requests, count: String(sum.requests) }),
      tokens: t("usage.n_tokens", { n: sum.total_tokens, count: String(sum.total_tokens) }), cost: money(sum.cost) });
    const tokens = seriesByModel(daily.data, axis, (r) => r.total_tokens);
    const cost = seriesByModel(daily.data, axis, (r) => r.cost);
    replace(tokensChart);
    disposers.push(lineChart(tokensChart, { title: t("usage.chart_tokens"), axis, ...tokens, format: (v) => formatNumber(v) }));
    disposers.push(lineChart(costChart, { title: t("usage.chart_cost", { currency }), axis, ...cost, format: money,
      axisFormat: (v) => formatNumber(v, { maximumFractionDigits: 4 }) }));
    const num = (v) => formatNumber(v);
    replace(byModel, models.data.length
      ? models.data.map((r) => h("tr", {}, h("td", {}, r.model, units(r)), h("td", {}, num(r.requests)),
          h("td", {}, num(r.prompt_tokens)), h("td", {}, num(r.completion_tokens)), h("td", {}, money(r.cost))))
      : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("usage.none"))));
    replace(recent, log.data.length
      ? log.data.map((r) => h("tr", { "data-testid": "request-row" },
          h("td", { class: "small" }, formatTime(r.created_at)),
          h("td", {}, r.model, r.stream ? h("span", { class: "muted small" }, ` ${t("usage.stream")}`) : null),
          h("td", {}, h("span", { class: `badge ${r.status < 400 ? "online" : "fail"}` }, String(r.status)),
            r.error_code ? h("div", { class: "muted small" }, r.error_code) : null),
          h("td", {}, t("usage.ms", { n: r.latency_ms })),
          h("td", {}, `${num(r.prompt_tokens)} + ${num(r.completion_tokens)}`, units(r)),
          h("td", {}, money(r.cost))))
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("usage.no_requests"))));
  }

  load().catch((err) => {
    error.show(err);
    replace(tokensChart);
    replace(byModel);
    replace(recent);
  });
  return () => disposers.forEach((dispose) => dispose());
}
