// Knowledge bases: create, list, delete; choosing one opens its files and test retrieval.

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";
import { renderKbDetail } from "./kb_detail.js";

// A delete button that asks for a second click within a few seconds.
export function confirmButton(label, onConfirm, attrs = {}) {
  let armed = null;
  const button = h("button", { type: "button", class: "danger", ...attrs }, label);
  button.addEventListener("click", async () => {
    if (!armed) {
      button.textContent = "Confirm";
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
  const rows = h("tbody", { "data-testid": "kb-rows" });
  const detail = h("div", { class: "kb-detail" });
  const name = h("input", { name: "name", required: true, maxlength: 50, "data-testid": "kb-name" });
  const description = h("input", { name: "description", maxlength: 100, "data-testid": "kb-description" });
  const create = h("form", { class: "card inline-form" },
    h("h2", {}, "New knowledge base"),
    field("Name", name), field("Description", description),
    h("button", { type: "submit", "data-testid": "kb-create" }, "Create"));

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
      replace(
        rows,
        kbs.length ? kbs.map((kb) => kbRow(kb)) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No knowledge bases yet.")),
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
        h("div", { class: "muted small" }, kb.id)),
      h("td", { class: "hide-narrow" }, kb.description || "—"),
      h("td", {}, String(kb.file_ids.length)),
      h("td", {}, h("span", { class: `badge ${kb.status}` }, kb.status)),
      h("td", { class: "actions" }, confirmButton("Delete", async () => {
        try {
          await api(`/v1/kbs/${encodeURIComponent(kb.id)}`, { method: "DELETE" });
          await refresh();
        } catch (err) {
          error.show(err);
        }
      }, { "data-testid": `kb-delete-${kb.name}` })),
    );
  }

  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const kb = await api("/v1/kbs", { method: "POST", body: { name: name.value.trim(), description: description.value.trim() } });
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
    h("h1", {}, "Knowledge bases"),
    error,
    h("div", { class: "kb-layout" },
      create,
      h("section", { class: "card" }, h("h2", {}, "Your knowledge bases"),
        h("div", { class: "table-wrap" }, h("table", {},
          h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", { class: "hide-narrow" }, "Description"),
            h("th", {}, "Files"), h("th", {}, "Status"), h("th", {}, ""))),
          rows)))),
    detail,
  );
  refresh();
  return () => detailCleanup?.();
}
