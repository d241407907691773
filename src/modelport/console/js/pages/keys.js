// Keys (admin): create (the secret shown once, with a copy button), revoke, quotas and limits;
// and the redemption codes below.

import { api } from "../api.js";
import { copyButton } from "../copy.js";
import { errorLine, field, formatTime, h, replace } from "../dom.js";
import { confirmButton } from "./kbs.js";
import { renderCodes } from "./codes.js";
import { limitFields, limitsBody } from "./key_limits.js";

export function renderKeys(main) {
  const error = errorLine();
  const rows = h("tbody", { "data-testid": "key-rows" });
  const shown = h("div", { class: "secret", hidden: true, "data-testid": "new-key" });
  const name = h("input", { name: "name", required: true, maxlength: 200, "data-testid": "key-name" });
  const owner = h("input", { name: "owner", maxlength: 200, placeholder: "its own id", "data-testid": "key-owner" });
  const isAdmin = h("input", { type: "checkbox", name: "is_admin" });
  const limits = limitFields("new");
  const form = h("form", { class: "card" },
    h("h2", {}, "New key"),
    h("div", { class: "grid2" }, field("Name", name), field("Owner", owner)),
    limits.element,
    h("label", { class: "check" }, isAdmin, " admin (can manage keys)"),
    h("button", { type: "submit", "data-testid": "key-create" }, "Create key"),
    shown);

  function showSecret(created) {
    const secret = h("code", { "data-testid": "new-key-value" }, created.key);
    replace(shown,
      h("p", {}, h("strong", {}, `Key “${created.name}” created.`), " Copy it now: it is shown this once."),
      h("div", { class: "row" }, secret, copyButton(() => created.key, "Copy", { "data-testid": "new-key-copy" })));
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
    parts.push(`${key.used_tokens}${key.quota_tokens !== null ? ` / ${key.quota_tokens}` : ""} tokens`);
    if (key.quota !== null || key.used) parts.push(`${key.used.toFixed(4)}${key.quota !== null ? ` / ${key.quota}` : ""} spent`);
    return parts.join(" · ");
  }

  function keyRow(key) {
    const edit = limitFields(key.id, key);
    const editor = h("tr", { class: "editor", hidden: true },
      h("td", { colspan: 6 }, h("form", { class: "row wrap-row" }, edit.element,
        h("button", { type: "submit" }, "Save limits"))));
    editor.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api(`/admin/keys/${encodeURIComponent(key.id)}`, { method: "PATCH", body: limitsBody(edit, true) });
        await refresh();
      } catch (err) {
        error.show(err);
      }
    });
    const active = key.status === "active";
    const row = h("tr", { dataset: { id: key.id }, "data-testid": `key-row-${key.name}` },
      h("td", {}, h("strong", {}, key.name), key.is_admin ? h("span", { class: "badge admin" }, "admin") : null,
        h("div", { class: "muted small" }, key.display)),
      h("td", { class: "hide-narrow" }, key.owner),
      h("td", {}, h("span", { class: `badge ${key.status}`, "data-testid": "key-status" }, key.status)),
      h("td", { class: "small" }, quotaText(key),
        h("div", { class: "muted" }, `rpm ${key.rpm ?? "∞"} · tpm ${key.tpm ?? "∞"}`)),
      h("td", { class: "hide-narrow small" }, formatTime(key.last_used_at)),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "secondary", onclick: () => (editor.hidden = !editor.hidden) }, "Limits"),
        active ? confirmButton("Revoke", async () => {
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
    h("h1", {}, "Keys"),
    error,
    form,
    h("section", { class: "card" }, h("h2", {}, "All keys"),
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Key"), h("th", { class: "hide-narrow" }, "Owner"), h("th", {}, "Status"),
          h("th", {}, "Usage and limits"), h("th", { class: "hide-narrow" }, "Last used"), h("th", {}, ""))),
        rows))),
    renderCodes(),
  );
  refresh();
}
