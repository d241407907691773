// Usage: tokens and cost by day and by model (charts), totals by model, recent requests.
// Admins see every key's usage; other keys see their own.

import { api } from "../api.js";
import { dayAxis, lineChart, seriesByModel } from "../charts.js";
import { errorLine, formatTime, h, replace } from "../dom.js";
import { productKinds, unitsOf } from "../units.js";
import { renderRedeem } from "./redeem.js";

const DAYS = 30;

function money(value) {
  return value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 2);
}

export function renderUsage(main, { me }) {
  const disposers = [];
  const error = errorLine();
  const scope = me.is_admin ? "every key" : "this key";
  const tokensChart = h("div", { class: "chart", "data-testid": "chart-tokens" });
  const costChart = h("div", { class: "chart", "data-testid": "chart-cost" });
  const byModel = h("tbody", { "data-testid": "usage-by-model" });
  const recent = h("tbody", { "data-testid": "recent-requests" });
  const totals = h("p", { class: "totals", "data-testid": "usage-totals" });

  replace(
    main,
    h("h1", {}, "Usage"),
    h("p", { class: "muted" }, `Last ${DAYS} days, ${scope}, in UTC days.`),
    error,
    totals,
    h("div", { class: "charts" }, h("section", { class: "card" }, tokensChart), h("section", { class: "card" }, costChart)),
    h("section", { class: "card" }, h("h2", {}, "By model"),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Model"), h("th", {}, "Requests"), h("th", {}, "Prompt"),
          h("th", {}, "Completion"), h("th", {}, "Cost"))),
        byModel))),
    h("section", { class: "card" }, h("h2", {}, "Recent requests"),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Time"), h("th", {}, "Model"), h("th", {}, "Status"),
          h("th", {}, "Latency"), h("th", {}, "Tokens"), h("th", { class: "hide-narrow" }, "Cost"))),
        recent))),
    renderRedeem(),
  );

  async function load() {
    const axis = dayAxis(DAYS);
    const since = new Date(axis[0] * 1000).toISOString().slice(0, 19);
    const base = me.is_admin ? "/admin/usage" : "/v1/usage";
    const requests = me.is_admin ? "/admin/usage/requests?limit=50" : "/v1/usage/requests?limit=50";
    const [daily, models, log, cards] = await Promise.all([
      api(`${base}?group_by=day,model&since=${since}`),
      api(`${base}?group_by=model&since=${since}`),
      api(requests),
      api("/v1/models").catch(() => null), // only to tell image models apart
    ]);
    const kinds = productKinds(cards, log.data);
    const units = (r) => {
      const text = unitsOf(r, kinds);
      return text && h("div", { class: "muted small", "data-testid": "units" }, text);
    };
    const t = daily.totals;
    const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
    totals.textContent = `${plural(t.requests, "request")} · ${plural(t.total_tokens, "token")} · cost ${money(t.cost)}`;
    const tokens = seriesByModel(daily.data, axis, (r) => r.total_tokens);
    const cost = seriesByModel(daily.data, axis, (r) => r.cost);
    disposers.push(lineChart(tokensChart, { title: "Tokens by day", axis, ...tokens }));
    disposers.push(lineChart(costChart, { title: "Cost by day", axis, ...cost, format: money }));
    replace(byModel, models.data.length
      ? models.data.map((r) => h("tr", {}, h("td", {}, r.model, units(r)), h("td", {}, String(r.requests)),
          h("td", {}, String(r.prompt_tokens)), h("td", {}, String(r.completion_tokens)), h("td", {}, money(r.cost))))
      : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No usage yet.")));
    replace(recent, log.data.length
      ? log.data.map((r) => h("tr", { "data-testid": "request-row" },
          h("td", { class: "small" }, formatTime(r.created_at)),
          h("td", {}, r.model, r.stream ? h("span", { class: "muted small" }, " stream") : null),
          h("td", {}, h("span", { class: `badge ${r.status < 400 ? "online" : "fail"}` }, String(r.status)),
            r.error_code ? h("div", { class: "muted small" }, r.error_code) : null),
          h("td", {}, `${r.latency_ms} ms`),
          h("td", {}, `${r.prompt_tokens} + ${r.completion_tokens}`, units(r)),
          h("td", { class: "hide-narrow" }, money(r.cost))))
      : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No requests yet.")));
  }

  load().catch((err) => error.show(err));
  return () => disposers.forEach((dispose) => dispose());
}
