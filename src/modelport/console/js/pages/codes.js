// Redemption codes (admin): mint a batch (codes shown once), list what exists.

import { api } from "../api.js";
import { copyButton } from "../copy.js";
import { errorLine, field, formatTime, h, replace } from "../dom.js";

export function renderCodes() {
  const error = errorLine();
  const rows = h("tbody", { "data-testid": "code-rows" });
  const minted = h("div", { class: "secret", hidden: true, "data-testid": "new-codes" });
  const batch = h("input", { name: "batch", required: true, maxlength: 100, "data-testid": "code-batch" });
  const count = h("input", { type: "number", name: "count", min: 1, max: 10000, value: "1", required: true });
  const tokens = h("input", { type: "number", name: "tokens", min: 0, value: "0", "data-testid": "code-tokens" });
  const amount = h("input", { type: "number", name: "amount", min: 0, step: 0.01, value: "0" });
  const form = h("form", {},
    h("div", { class: "grid2" }, field("Batch", batch), field("Count", count), field("Tokens each", tokens), field("Amount each", amount)),
    h("button", { type: "submit", "data-testid": "code-create" }, "Mint codes"),
    minted);

  async function refresh() {
    try {
      const codes = (await api("/admin/redemption-codes")).data;
      replace(rows, codes.length
        ? codes.map((c) => h("tr", {},
            h("td", {}, c.display), h("td", {}, c.batch), h("td", {}, `${c.tokens} tokens · ${(c.micros / 1e6).toFixed(2)}`),
            h("td", {}, c.redeemed_at ? `redeemed ${formatTime(c.redeemed_at)}` : "unused")))
        : h("tr", {}, h("td", { colspan: 4, class: "muted" }, "No codes yet.")));
    } catch (err) {
      error.show(err);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    try {
      const result = await api("/admin/redemption-codes", { method: "POST", body: {
        batch: batch.value.trim(), count: Number(count.value), tokens: Number(tokens.value), amount: Number(amount.value) } });
      const all = result.data.map((c) => c.code).join("\n");
      replace(minted,
        h("p", {}, h("strong", {}, `${result.data.length} code(s) minted.`), " Copy them now: they are shown this once."),
        h("pre", { class: "code" }, all),
        copyButton(() => all, "Copy codes"));
      minted.hidden = false;
      await refresh();
    } catch (err) {
      error.show(err);
    }
  });

  refresh();
  return h("section", { class: "card" }, h("h2", {}, "Redemption codes"), error, form,
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Code"), h("th", {}, "Batch"), h("th", {}, "Credit"), h("th", {}, "State"))),
      rows)));
}
