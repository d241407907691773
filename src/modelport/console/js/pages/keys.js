// Keys (admin): create (the secret shown once, with a copy button), revoke, quotas and limits;
// and the redemption codes below.

import { api } from "../api.js";
import { copyButton } from "../copy.js";
import { errorLine, field, formatTime, h, loadingRow, replace, scrollTable } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { confirmButton } from "./kbs.js";
import { renderCodes } from "./codes.js";
import { limitFields, limitsBody } from "./key_limits.js";

export function renderKeys(main) {
  const error = errorLine();
  const rows = h("tbody", { "data-testid": "key-rows" }, loadingRow(6));
  const shown = h("div", { class: "secret", hidden: true, "data-testid": "new-key" });
  const name = h("input", { name: "name", required: true, maxlength: 200, "data-testid": "key-name" });
  const owner = h("input", { name: "owner", maxlength: 200, placeholder: t("keys.owner_placeholder"), "data-testid": "key-owner" });
  const isAdmin = h("input", { type: "checkbox", name: "is_admin" });
  const limits = limitFields("new");
  const form = h("form", { class: "card" },
    h("h2", {}, t("keys.new")),
    h("div", { class: "grid2" }, field(t("keys.name"), name), field(t("keys.owner"), owner)),
    limits.element,
    h("label", { class: "check" }, isAdmin, " ", t("keys.admin_check")),
    h("button", { type: "submit", "data-testid": "key-create" }, t("keys.create")),
    shown);

  function showSecret(created) {
    const secret = h("code", { "data-testid": "new-key-value" }, created.key);
    replace(shown,
      h("p", {}, h("strong", {}, t("keys.created", { name: created.name })), " ", t("keys.copy_now")),
      h("div", { class: "row" }, secret, copyButton(() => created.key, t("copy.copy"), { "data-testid": "new-key-copy" })));
    shown.hidden = false;
  }

  async function refresh() {
    try {
      const keys = (await api("/admin/keys")).data;
      replace(rows, keys.map(keyRow));
      error.show(null);
    } catch (err) {
      error.show(err);
    }
  }

  function quotaText(key) {
    const parts = [];
    const tokens = `${key.used_tokens}${key.quota_tokens !== null ? ` / ${key.quota_tokens}` : ""}`;
    parts.push(t("keys.tokens_used", { tokens }));
    const spent = `${formatNumber(key.used, { maximumFractionDigits: 4 })}${key.quota !== null ? ` / ${formatNumber(key.quota)}` : ""}`;
    if (key.quota !== null || key.used) parts.push(t("keys.spent", { spent }));
    return parts.join(" · ");
  }

  function keyRow(key) {
    const edit = limitFields(key.id, key);
    const editor = h("tr", { class: "editor", hidden: true },
      h("td", { colspan: 6 }, h("form", { class: "row wrap-row" }, edit.element,
        h("button", { type: "submit" }, t("keys.save_limits")))));
    editor.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      error.show(null);
      try {
        await api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: "PATCH", body: limitsBody(edit, true) });
        await refresh();
      } catch (err) {
        error.show(err);
      }
    });
    const active = key.status === "active";
    const row = h("tr", { dataset: { id: key.id }, "data-testid": `key-row-${key.name}` },
      h("td", {}, h("strong", {}, key.name), key.is_admin ? h("span", { class: "badge admin" }, t("keys.admin_badge")) : null,
        h("div", { class: "muted small" }, key.display)),
      h("td", { class: "hide-narrow" }, key.owner),
      h("td", {}, h("span", { class: `badge ${key.status}`, "data-testid": "key-status", title: t(`status.${key.status}`) }, key.status)),
      h("td", { class: "small" }, quotaText(key),
        h("div", { class: "muted" }, `rpm ${key.rpm ?? "∞"} · tpm ${key.tpm ?? "∞"}`)),
      h("td", { class: "hide-narrow small" }, formatTime(key.last_used_at)),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => (editor.hidden = !editor.hidden) }, t("keys.limits")),
        active ? confirmButton(t("keys.revoke"), async () => {
          try {
            await api(`/admin/keys/${encodeURIComponent(key.id)}/revoke`, { method: "POST" });
            await refresh();
          } catch (err) {
            error.show(err);
          }
        }, { "data-testid": `key-revoke-${key.name}` }) : null));
    return [row, editor];
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    shown.hidden = true; // a new key: the last one's secret is not this answer
    try {
      const body = { name: name.value.trim(), is_admin: isAdmin.checked, ...limitsBody(limits, false) };
      if (owner.value.trim()) body.owner = owner.value.trim();
      showSecret(await api("/admin/keys", { method: "POST", body }));
      form.reset();
      await refresh();
    } catch (err) {
      error.show(err);
    }
  });

  replace(
    main,
    h("h1", {}, t("keys.title")),
    error,
    form,
    h("section", { class: "card" }, h("h2", {}, t("keys.all")),
      scrollTable(h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("keys.col.key")), h("th", { class: "hide-narrow" }, t("keys.col.owner")),
          h("th", {}, t("keys.col.status")), h("th", {}, t("keys.col.usage")), h("th", { class: "hide-narrow" }, t("keys.col.last_used")),
          h("th", {}, ""))),
        rows))),
    renderCodes(),
  );
  refresh();
}
