// Knowledge bases: create, list, delete; choosing one opens its files and test retrieval.

import { api } from "../api.js";
import { errorLine, field, formatTime, h, loadingRow, replace, scrollTable } from "../dom.js";
import { t } from "../i18n.js";
import { renderKbDetail } from "./kb_detail.js";

// A delete button that asks for a second click within a few seconds.
export function confirmButton(label, onConfirm, attrs = {}) {
  let armed = null;
  const button = h("button", { type: "button", class: "danger", ...attrs }, label);
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = t("common.confirm");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try {
      await onConfirm();
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  });
  return button;
}

export function renderKbs(main) {
  let detailCleanup = null;
  let selected = null;
  const error = errorLine();
  const rows = h("tbody", { "data-testid": "kb-rows" }, loadingRow(5));
  const notice = h("p", { class: "warn", role: "status", "data-testid": "kb-notice", hidden: true });
  let known = [];
  const detail = h("div", { class: "kb-detail" });
  const name = h("input", { name: "name", required: true, maxlength: 50, "data-testid": "kb-name" });
  const description = h("input", { name: "description", maxlength: 100, "data-testid": "kb-description" });
  const create = h("form", { class: "card inline-form" },
    h("h2", {}, t("kbs.new")),
    field(t("kbs.name"), name), field(t("kbs.description"), description), notice,
    h("button", { type: "submit", "data-testid": "kb-create" }, t("kbs.create")));

  function open(kb) {
    detailCleanup?.();
    selected = kb?.id ?? null;
    for (const row of rows.children) row.classList.toggle("selected", row.dataset.id === selected);
    replace(detail);
    detailCleanup = kb ? renderKbDetail(detail, kb, refresh) : null;
  }

  async function refresh() {
    try {
      const kbs = (await api("/v1/kbs")).data;
      known = kbs;
      replace(
        rows,
        kbs.length ? kbs.map((kb) => kbRow(kb)) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("kbs.none"))),
      );
      for (const row of rows.children) row.classList.toggle("selected", row.dataset.id === selected);
      if (selected && !kbs.some((kb) => kb.id === selected)) open(null);
      error.show(null);
    } catch (err) {
      error.show(err);
    }
  }

  function kbRow(kb) {
    return h(
      "tr",
      { dataset: { id: kb.id }, "data-testid": `kb-row-${kb.name}` },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => open(kb), "data-testid": `kb-open-${kb.name}` }, kb.name),
        h("div", { class: "muted small" }, kb.id, " · ", formatTime(kb.created_at))),
      h("td", { class: "hide-narrow" }, kb.description || "—"),
      h("td", {}, String(kb.file_ids.length)),
      h("td", {}, h("span", { class: `badge ${kb.status}`, title: t(`status.${kb.status}`) }, kb.status)),
      h("td", { class: "actions" }, confirmButton(t("common.delete"), async () => {
        error.show(null);
        try {
          await api(`/v1/kbs/${encodeURIComponent(kb.id)}`, { method: "DELETE" });
          await refresh();
        } catch (err) {
          error.show(err);
        }
      }, { "data-testid": `kb-delete-${kb.name}` })),
    );
  }

  // Two bases may share a name (Baichuan's API allows it): warn, and tell them apart by id.
  const duplicate = () => known.some((kb) => kb.name === name.value.trim());
  name.addEventListener("input", () => {
    notice.hidden = !duplicate();
    notice.textContent = notice.hidden ? "" : t("kbs.duplicate", { name: name.value.trim() });
  });

  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    try {
      const kb = await api("/v1/kbs", { method: "POST", body: { name: name.value.trim(), description: description.value.trim() } });
      notice.hidden = true;
      name.value = "";
      description.value = "";
      await refresh();
      open(kb);
    } catch (err) {
      error.show(err);
    }
  });

  replace(
    main,
    h("h1", {}, t("kbs.title")),
    error,
    h("div", { class: "kb-layout" },
      create,
      h("section", { class: "card" }, h("h2", {}, t("kbs.yours")),
        scrollTable(h("table", {},
          h("thead", {}, h("tr", {}, h("th", {}, t("kbs.col.name")), h("th", { class: "hide-narrow" }, t("kbs.col.description")),
            h("th", {}, t("kbs.col.files")), h("th", {}, t("kbs.col.status")), h("th", {}, ""))),
          rows)))),
    detail,
  );
  refresh();
  return () => detailCleanup?.();
}
