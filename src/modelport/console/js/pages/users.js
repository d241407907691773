// Users (admin): search accounts, switch them off and on, adjust their quota, move them to
// another group, and see the keys each one owns.

import { api } from "../api.js";
import { field, h, replace } from "../dom.js";
import { formatMoney, formatNumber, formatTime, t } from "../i18n.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

const PAGE = 50;

function quotaText(user, currency) {
  const tokens = user.quota_tokens === null ? t("users.unlimited") : formatNumber(user.quota_tokens);
  const money = user.quota === null ? t("users.unlimited") : formatMoney(user.quota, currency);
  return t("users.quotaLine", { usedTokens: formatNumber(user.used_tokens), tokens,
    used: formatMoney(user.used, currency), money });
}

export function renderUsers(main, { me } = {}) {
  const currency = me?.currency ?? "USD";
  const note = statusLine("user-note");
  const rows = tableBody(6, "user-rows");
  const keysBox = h("section", { class: "card", hidden: true, "data-testid": "user-keys" });
  const q = h("input", { type: "search", placeholder: t("users.searchHint"), "data-testid": "user-search" });
  const status = h("select", { "data-testid": "user-status-filter" },
    h("option", { value: "" }, t("users.anyStatus")), h("option", { value: "active" }, t("users.status.active")),
    h("option", { value: "disabled" }, t("users.status.disabled")));
  const more = h("button", { type: "button", class: "secondary", hidden: true, "data-testid": "user-more" }, t("pages.more"));
  let groups = [];
  let after = null;
  let shown = [];

  async function patch(user, body, text) {
    note.clear();
    try {
      await api(`/admin/users/${encodeURIComponent(user.id)}`, { method: "PATCH", body });
      note.say(text);
      await search(true);
    } catch (err) {
      note.say(err.message, true);
    }
  }

  // Set a quota (blank: leave it; "unlimited" clears both) or move it by a signed delta,
  // which the server applies atomically and refuses on an unlimited quota.
  function quotaEditor(user) {
    const number = (testid, step) => h("input", { type: "number", step, "data-testid": testid });
    const inputs = { quota_tokens: number("user-set-tokens", 1), quota: number("user-set-money", "any"),
      adjust_tokens: number("user-adjust-tokens", 1), adjust: number("user-adjust-money", "any") };
    const unlimited = h("input", { type: "checkbox", "data-testid": "user-unlimited" });
    const form = h("form", { class: "row wrap-row" },
      field(t("users.setTokens"), inputs.quota_tokens), field(t("users.setMoney"), inputs.quota),
      field(t("users.adjustTokens"), inputs.adjust_tokens), field(t("users.adjustMoney"), inputs.adjust),
      h("label", { class: "check" }, unlimited, " ", t("users.makeUnlimited")),
      h("button", { type: "submit", "data-testid": "user-quota-save" }, t("users.saveQuota")));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = unlimited.checked ? { quota_tokens: null, quota: null } : {};
      for (const [name, input] of Object.entries(inputs)) {
        if (input.value === "" || unlimited.checked) continue;
        body[name] = name.endsWith("tokens") ? Math.trunc(Number(input.value)) : Number(input.value);
      }
      if (Object.keys(body).length) patch(user, body, t("users.adjusted", { name: user.username }));
    });
    return form;
  }

  async function showKeys(user) {
    keysBox.hidden = false;
    const body = tableBody(4, "user-key-rows");
    replace(keysBox, h("h2", {}, t("users.keysOf", { name: user.username })),
      scrollTable([t("users.keyName"), t("users.keyStatus"), t("users.keyUsed"), t("users.keyLastUsed")], body));
    await body.load(async () => (await api(`/admin/users/${encodeURIComponent(user.id)}/keys`)).data.map((key) =>
      h("tr", {}, h("td", {}, h("strong", {}, key.name), h("div", { class: "muted small" }, key.display)),
        h("td", {}, h("span", { class: `badge ${key.status}` }, t(`keyStatus.${key.status}`))),
        h("td", { class: "small" }, t("users.keyUsedLine", { tokens: formatNumber(key.used_tokens) })),
        h("td", { class: "small" }, formatTime(key.last_used_at)))), t("users.noKeys"));
    keysBox.scrollIntoView({ block: "start" });
  }

  function row(user) {
    const active = user.status === "active";
    const group = h("select", { "data-testid": "user-group", "aria-label": t("users.group"),
      onchange: () => patch(user, { group: group.value }, t("users.moved", { name: user.username, group: group.value })) },
    (groups.length ? groups : [{ name: user.group }]).map((g) => h("option", { value: g.name, selected: g.name === user.group }, g.name)));
    const editor = h("tr", { class: "editor", hidden: true }, h("td", { colspan: 6 }, quotaEditor(user)));
    return [h("tr", { "data-testid": `user-row-${user.username}` },
      h("td", {}, h("strong", {}, user.username), h("div", { class: "muted small" }, [user.display_name, user.email].filter(Boolean).join(" · "))),
      h("td", {}, t(`users.role.${user.role}`)),
      h("td", {}, group),
      h("td", {}, h("span", { class: `badge ${active ? "active" : "revoked"}`, "data-testid": "user-status" }, t(`users.status.${user.status}`))),
      h("td", { class: "small", "data-testid": "user-quota" }, quotaText(user, currency)),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "secondary", "data-testid": "user-quota-edit", onclick: () => (editor.hidden = !editor.hidden) }, t("users.quota")),
        h("button", { type: "button", class: "secondary", "data-testid": "user-keys-open", onclick: () => showKeys(user) }, t("users.keys")),
        h("button", { type: "button", class: active ? "danger" : "secondary", "data-testid": "user-toggle",
          onclick: () => patch(user, { status: active ? "disabled" : "active" },
            t(active ? "users.disabledNote" : "users.enabledNote", { name: user.username })) },
        active ? t("users.disable") : t("users.enable")))), editor];
  }

  function query(cursor) {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (q.value.trim()) params.set("q", q.value.trim());
    if (status.value) params.set("status", status.value);
    if (cursor) params.set("after", cursor);
    return `/admin/users?${params}`;
  }

  async function search(quiet = false) {
    await rows.load(async () => {
      if (!groups.length) groups = (await api("/admin/groups")).data;
      const page = await api(query(null));
      shown = page.data;
      after = page.has_more ? page.last_id : null;
      more.hidden = !after;
      return shown.map(row);
    }, t("users.none"), { quiet });
  }

  more.addEventListener("click", async () => {
    try {
      const page = await api(query(after));
      shown = shown.concat(page.data);
      after = page.has_more ? page.last_id : null;
      more.hidden = !after;
      rows.show(shown.map(row), t("users.none"));
    } catch (err) {
      note.say(err.message, true);
    }
  });
  const form = h("form", { class: "row wrap-row" }, q, status, h("button", { type: "submit", "data-testid": "user-search-go" }, t("users.search")));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });

  replace(main, h("h1", {}, t("users.title")), note,
    h("section", { class: "card" }, form,
      scrollTable([t("users.username"), t("users.roleHeader"), t("users.group"), t("users.statusHeader"), t("users.quota"), ""], rows, { class: "wide" }), more),
    keysBox);
  search();
}
