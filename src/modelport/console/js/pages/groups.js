// Groups (admin): price ratios (a user's group multiplies what its requests cost).

import { api } from "../api.js";
import { field, h, replace } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { confirmButton } from "./kbs.js";
import { scrollTable, statusLine, tableBody } from "./table_state.js";

export function renderGroups(main) {
  const note = statusLine("group-note");
  const rows = tableBody(4, "group-rows");
  const name = h("input", { required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}", "data-testid": "group-name" });
  const ratio = h("input", { type: "number", min: 0, step: "any", value: "1", required: true, "data-testid": "group-ratio" });
  const description = h("input", { maxlength: 200, "data-testid": "group-description" });
  const form = h("form", { class: "card" }, h("h2", {}, t("groups.new")),
    h("div", { class: "grid2" }, field(t("groups.name"), name), field(t("groups.ratio"), ratio, t("groups.ratioHint")),
      field(t("groups.description"), description)),
    h("button", { type: "submit", "data-testid": "group-create" }, t("groups.create")));

  async function act(work, text) {
    note.clear();
    try {
      await work();
      note.say(text);
      await refresh(true);
      return true;
    } catch (err) {
      note.say(err.message, true);
      return false;
    }
  }

  function row(group) {
    const path = `/admin/groups/${encodeURIComponent(group.name)}`;
    const input = h("input", { type: "number", min: 0, step: "any", value: String(group.ratio), class: "narrow",
      "aria-label": t("groups.ratio"), "data-testid": "group-ratio-edit" });
    return h("tr", { "data-testid": `group-row-${group.name}` },
      h("td", {}, h("strong", {}, group.name), group.description ? h("div", { class: "muted small" }, group.description) : null),
      h("td", {}, input),
      h("td", {}, formatNumber(group.users)),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "secondary", "data-testid": "group-save",
          onclick: () => act(() => api(path, { method: "PATCH", body: { ratio: Number(input.value) } }),
            t("groups.saved", { name: group.name })) }, t("pages.save")),
        confirmButton(t("common.delete"), () => act(() => api(path, { method: "DELETE" }), t("groups.deleted", { name: group.name })))));
  }

  async function refresh(quiet = false) {
    await rows.load(async () => (await api("/admin/groups")).data.map(row), t("groups.none"), { quiet });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), ratio: Number(ratio.value), description: description.value.trim() || null };
    if (await act(() => api("/admin/groups", { method: "POST", body }), t("groups.created", { name: body.name }))) form.reset();
  });

  replace(main, h("h1", {}, t("groups.title")), h("p", { class: "muted" }, t("groups.intro")), note, form,
    h("section", { class: "card" }, scrollTable([t("groups.name"), t("groups.ratio"), t("groups.users"), ""], rows)));
  refresh();
}
