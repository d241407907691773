// Channels (admin): the upstream accounts behind the models. Add, edit, test, check the
// balance, switch on and off, delete; the settings file's channels are listed read-only.

import { api } from "../api.js";
import { h, replace } from "../dom.js";
import { formatTime, t } from "../i18n.js";
import { confirmButton } from "./kbs.js";
import { channelForm } from "./channels_form.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

function statusBadge(channel) {
  const label = t(`channels.status.${channel.status}`);
  return h("span", { class: `badge ${channel.status}`, "data-testid": "channel-status", title: channel.status_reason ?? "" }, label);
}

function testText(channel) {
  if (!channel.last_test_at) return t("channels.neverTested");
  if (channel.last_test_error) return t("channels.testFailed", { error: channel.last_test_error });
  return t("channels.testOk", { ms: channel.last_test_ms });
}

function balanceText(channel) {
  if (!channel.balance_at) return "—";
  if (channel.balance === null) return t("channels.noLimit");
  return `${channel.balance} ${channel.balance_currency ?? ""}`.trim();
}

export function renderChannels(main) {
  const note = statusLine("channel-note");
  const rows = tableBody(7, "channel-rows");
  let live = true;

  // Runs one action; its own words (ok or failed) go to the status line, a thrown error too.
  async function act(work) {
    note.clear();
    try {
      const [text, failed] = (await work()) ?? [];
      if (text) note.say(text, failed);
      await refresh(true);
      return true;
    } catch (err) {
      note.say(err.message ?? String(err), true);
      return false;
    }
  }

  const form = channelForm((editing, body) => act(async () => {
    const sent = body();
    if (editing) await api(`/admin/channels/${encodeURIComponent(editing)}`, { method: "PATCH", body: sent });
    else await api("/admin/channels", { method: "POST", body: sent });
    return [editing ? t("channels.saved") : t("channels.created", { name: sent.name })];
  }));

  function actions(channel) {
    if (channel.source !== "database") return [h("span", { class: "muted small" }, t("channels.fromSettings"))];
    const id = encodeURIComponent(channel.id);
    const enabled = channel.status === "enabled";
    return [
      h("button", { type: "button", class: "secondary", "data-testid": "channel-test",
        onclick: () => act(async () => {
          const outcome = await api(`/admin/channels/${id}/test`, { method: "POST", body: {} });
          return outcome.ok ? [t("channels.testOk", { ms: outcome.latency_ms })]
            : [t("channels.testFailed", { error: outcome.error ?? outcome.code ?? String(outcome.status) }), true];
        }) }, t("channels.test")),
      h("button", { type: "button", class: "secondary", "data-testid": "channel-balance",
        onclick: () => act(async () => {
          const got = await api(`/admin/channels/${id}/balance`, { method: "POST" });
          return [t("channels.balanceIs", { amount: got.balance ?? t("channels.noLimit"), currency: got.currency ?? "" })];
        }) }, t("channels.balance")),
      h("button", { type: "button", class: "secondary", "data-testid": "channel-edit", onclick: () => form.edit(channel) }, t("pages.edit")),
      h("button", { type: "button", class: "secondary", "data-testid": "channel-toggle",
        onclick: () => act(async () => {
          await api(`/admin/channels/${id}`, { method: "PATCH", body: { status: enabled ? "disabled" : "enabled" } });
          return [enabled ? t("channels.disabled", { name: channel.name }) : t("channels.enabled", { name: channel.name })];
        }) }, enabled ? t("channels.disable") : t("channels.enable")),
      confirmButton(t("common.delete"), () => act(async () => {
        await api(`/admin/channels/${id}`, { method: "DELETE" });
        return [t("channels.deleted", { name: channel.name })];
      }), { "data-testid": "channel-delete" }),
    ];
  }

  function row(channel) {
    return h("tr", { "data-testid": `channel-row-${channel.name}` },
      h("td", {}, h("strong", {}, channel.name), h("div", { class: "muted small" }, `${channel.provider} · ${channel.id}`)),
      h("td", { class: "small" }, channel.models.join(", ")),
      h("td", { class: "small" }, t("channels.tier", { priority: channel.priority, weight: channel.weight })),
      h("td", {}, statusBadge(channel),
        channel.status_reason ? h("div", { class: "muted small", "data-testid": "channel-reason" }, channel.status_reason) : null,
        h("div", { class: "muted small" }, t(`channels.breaker.${channel.state}`))),
      h("td", { class: "small" }, balanceText(channel)),
      h("td", { class: "small", "data-testid": "channel-last-test" }, testText(channel),
        channel.last_test_at ? h("div", { class: "muted" }, formatTime(channel.last_test_at)) : null),
      h("td", { class: "actions" }, actions(channel)));
  }

  async function refresh(quiet = false) {
    if (!live) return;
    await rows.load(async () => (await api("/admin/channels")).data.map(row), t("channels.none"), { quiet });
  }

  replace(main,
    h("h1", {}, t("channels.title")),
    note, form,
    h("section", { class: "card" }, h("h2", {}, t("channels.all")),
      scrollTable([t("channels.name"), t("channels.models"), t("channels.priority"), t("channels.statusHeader"),
        t("channels.balance"), t("channels.lastTest"), ""], rows, { class: "wide" })));
  refresh();
  return () => { live = false; };
}
