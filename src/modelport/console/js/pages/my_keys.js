// My keys (a signed-in user): the keys the account owns; a new key's secret is shown once
// with a copy button; revoke. And the Redeem page, which tops the account up with a code.

import { api } from "../api.js";
import { copyButton } from "../copy.js";
import { field, h, replace } from "../dom.js";
import { formatNumber, formatTime, t } from "../i18n.js";
import { confirmButton } from "./kbs.js";
import { renderRedeem } from "./redeem.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

export function renderMyKeys(main) {
  const note = statusLine("my-key-note");
  const rows = tableBody(5, "my-key-rows");
  const shown = h("div", { class: "secret", hidden: true, "data-testid": "my-new-key" });
  const name = h("input", { required: true, maxlength: 200, value: "", "data-testid": "my-key-name" });
  const quotaTokens = h("input", { type: "number", min: 0, step: 1, "data-testid": "my-key-quota-tokens" });
  const form = h("form", { class: "card" }, h("h2", {}, t("myKeys.new")),
    h("div", { class: "grid2" }, field(t("myKeys.name"), name), field(t("myKeys.quotaTokens"), quotaTokens, t("myKeys.quotaHint"))),
    h("button", { type: "submit", "data-testid": "my-key-create" }, t("myKeys.create")), shown);

  function showSecret(created) {
    replace(shown,
      h("p", {}, h("strong", {}, t("myKeys.created", { name: created.name })), " ", t("myKeys.onceOnly")),
      h("div", { class: "row" }, h("code", { "data-testid": "my-new-key-value" }, created.key),
        copyButton(() => created.key, t("myKeys.copy"), { "data-testid": "my-new-key-copy" })));
    shown.hidden = false;
  }

  function row(key) {
    const active = key.status === "active";
    return h("tr", { "data-testid": `my-key-row-${key.name}` },
      h("td", {}, h("strong", {}, key.name), h("div", { class: "muted small" }, key.display)),
      h("td", {}, h("span", { class: `badge ${key.status}`, "data-testid": "my-key-status" }, t(`keyStatus.${key.status}`))),
      h("td", { class: "small" }, t("myKeys.usedLine", { used: formatNumber(key.used_tokens),
        quota: key.quota_tokens === null ? t("users.unlimited") : formatNumber(key.quota_tokens) })),
      h("td", { class: "small" }, formatTime(key.last_used_at)),
      h("td", { class: "actions" }, active ? confirmButton(t("myKeys.revoke"), async () => {
        note.clear();
        try {
          await api(`/v1/user/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
          note.say(t("myKeys.revoked", { name: key.name }));
          await refresh(true);
        } catch (err) {
          note.say(err.message, true);
        }
      }, { "data-testid": "my-key-revoke" }) : null));
  }

  async function refresh(quiet = false) {
    await rows.load(async () => (await api("/v1/user/keys")).data.map(row), t("myKeys.none"), { quiet });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    note.clear();
    shown.hidden = true;
    const body = { name: name.value.trim() };
    if (quotaTokens.value) body.quota_tokens = Math.trunc(Number(quotaTokens.value));
    try {
      showSecret(await api("/v1/user/keys", { method: "POST", body }));
      form.querySelector("input").value = "";
      await refresh(true);
    } catch (err) {
      note.say(err.message, true);
    }
  });

  replace(main, h("h1", {}, t("myKeys.title")), note, form,
    h("section", { class: "card" }, h("h2", {}, t("myKeys.all")),
      scrollTable([t("myKeys.name"), t("myKeys.status"), t("myKeys.used"), t("myKeys.lastUsed"), ""], rows, { class: "wide" })));
  refresh();
}

export function renderRedeemPage(main) {
  replace(main, h("h1", {}, t("redeemPage.title")), h("p", { class: "muted" }, t("redeemPage.intro")), renderRedeem());
}
