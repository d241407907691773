// Redemption codes (admin): mint a batch (codes shown once), list what exists with who
// redeemed each, disable or delete an unused one, export the list as CSV.

import { api } from "../api.js";
import { copyButton } from "../copy.js";
import { errorLine, field, formatTime, h, loadingRow, replace, scrollTable } from "../dom.js";
import { formatMoney, t } from "../i18n.js";
import { downloadCsv } from "./download.js";
import { confirmButton } from "./kbs.js";

function state(c) {
  if (c.status === "redeemed") {
    const who = c.redeemed_username ?? c.redeemed_by ?? "—";
    return [t("codes.redeemed", { time: formatTime(c.redeemed_at) }), h("div", { class: "muted small", "data-testid": "code-who" },
      t("codesAdmin.redeemedBy", { who, key: c.redeemed_by ?? "—" }))];
  }
  return c.status === "disabled" ? t("codesAdmin.disabled") : t("codes.unused");
}

export function renderCodes() {
  const error = errorLine();
  const note = h("p", { class: "ok", role: "status", hidden: true, "data-testid": "code-note" });
  const rows = h("tbody", { "data-testid": "code-rows" }, loadingRow(5));
  const exportButton = h("button", { type: "button", class: "secondary", "data-testid": "code-export" }, t("codesAdmin.export"));
  const minted = h("div", { class: "secret", hidden: true, "data-testid": "new-codes" });
  const batch = h("input", { name: "batch", required: true, maxlength: 100, "data-testid": "code-batch" });
  const count = h("input", { type: "number", name: "count", min: 1, max: 10000, value: "1", required: true });
  const tokens = h("input", { type: "number", name: "tokens", min: 0, value: "0", "data-testid": "code-tokens" });
  const amount = h("input", { type: "number", name: "amount", min: 0, step: 0.01, value: "0" });
  const form = h("form", {},
    h("div", { class: "grid2" }, field(t("codes.batch"), batch), field(t("codes.count"), count), field(t("codes.tokens_each"), tokens), field(t("codes.amount_each"), amount)),
    h("button", { type: "submit", "data-testid": "code-create" }, t("codes.mint")),
    minted);

  // Runs one action on a code; its words go to the note, a failure to the error line.
  async function act(work, text) {
    error.show(null);
    note.hidden = true;
    try {
      await work();
      note.textContent = text;
      note.hidden = false;
      await refresh();
    } catch (err) {
      error.show(err);
    }
  }

  function actions(c) {
    if (c.status === "redeemed") return null;
    const path = `/admin/codes/${encodeURIComponent(c.id)}`;
    return [
      c.status === "unused" ? h("button", { type: "button", class: "secondary", "data-testid": "code-disable",
        onclick: () => act(() => api(`${path}/disable`, { method: "POST" }), t("codesAdmin.disabledNote", { code: c.display })) },
      t("codesAdmin.disable")) : null,
      confirmButton(t("codesAdmin.delete"), () => act(() => api(path, { method: "DELETE" }), t("codesAdmin.deletedNote", { code: c.display })),
        { "data-testid": "code-delete" }),
    ];
  }

  async function refresh() {
    try {
      const codes = (await api("/admin/codes")).data;
      replace(rows, codes.length
        ? codes.map((c) => h("tr", { "data-testid": `code-row-${c.display}` },
            h("td", {}, c.display), h("td", {}, c.batch), h("td", {}, t("codes.credit", { tokens: String(c.tokens), money: formatMoney(c.micros / 1e6) })),
            h("td", { "data-testid": "code-state" }, state(c)), h("td", { class: "actions" }, actions(c))))
        : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("codes.none"))));
    } catch (err) {
      replace(rows, h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("codesAdmin.failed"))));
      error.show(err);
    }
  }

  exportButton.addEventListener("click", async () => {
    error.show(null);
    try {
      await downloadCsv("/admin/codes.csv", "redemption-codes.csv");
    } catch (err) {
      error.show(err);
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    note.hidden = true;
    minted.hidden = true; // a new batch: the last one's codes are not this answer
    try {
      const result = await api("/admin/redemption-codes", { method: "POST", body: {
        batch: batch.value.trim(), count: Number(count.value), tokens: Number(tokens.value), amount: Number(amount.value) } });
      const all = result.data.map((c) => c.code).join("\n");
      replace(minted,
        h("p", {}, h("strong", {}, t("codes.minted", { n: result.data.length })), " ", t("codes.copy_now")),
        h("pre", { class: "code" }, all),
        copyButton(() => all, t("codes.copy")));
      minted.hidden = false;
      await refresh();
    } catch (err) {
      error.show(err);
    }
  });

  refresh();
  return h("section", { class: "card" }, h("div", { class: "row spread" }, h("h2", {}, t("codes.title")), exportButton),
    error, note, form,
    scrollTable(h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, t("codes.col.code")), h("th", {}, t("codes.col.batch")),
        h("th", {}, t("codes.col.credit")), h("th", {}, t("codes.col.state")), h("th", {}, ""))),
      rows)));
}

// The codes as a page of their own (the keys page shows the same section below its keys).
export function renderCodesPage(main) {
  replace(main, h("h1", {}, t("codesAdmin.title")), renderCodes());
}
