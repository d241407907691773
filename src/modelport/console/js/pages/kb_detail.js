// One knowledge base: drag-and-drop upload with progress, files with live ingestion status,
// and the test-retrieval box.

import { api } from "../api.js";
import { errorLine, formatTime, h, loadingRow, replace, scrollTable } from "../dom.js";
import { formatNumber, t } from "../i18n.js";
import { uploadFile } from "../upload.js";
import { renderKbSearch } from "./kb_search.js";

const POLL_MS = 1000;
const BUSY = new Set(["init", "parsing"]);

function formatBytes(n) {
  const one = { maximumFractionDigits: 1, minimumFractionDigits: 1 };
  if (n < 1024) return `${formatNumber(n)} B`;
  if (n < 1024 * 1024) return `${formatNumber(n / 1024, one)} KB`;
  return `${formatNumber(n / 1024 / 1024, one)} MB`;
}

export function renderKbDetail(container, kb, onChanged) {
  let timer = null;
  let closed = false;
  const error = errorLine();
  const files = h("tbody", { "data-testid": "kb-files" }, loadingRow(5));
  const uploads = h("ul", { class: "uploads", "data-testid": "uploads" });
  const picker = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "file-input" });
  const drop = h(
    "div",
    { class: "dropzone", tabindex: 0, role: "button", "data-testid": "dropzone" },
    h("strong", {}, t("kb.drop")),
    h("span", { class: "muted" }, " ", t("kb.drop_hint")),
  );

  async function refreshFiles() {
    if (closed) return;
    clearTimeout(timer);
    try {
      const list = (await api(`/v1/kbs/${encodeURIComponent(kb.id)}/files`)).data;
      if (closed) return;
      replace(files, list.length ? list.map(fileRow) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("kb.no_files"))));
      error.show(null);
      if (list.some((f) => BUSY.has(f.status))) timer = setTimeout(refreshFiles, POLL_MS);
      else onChanged();
    } catch (err) {
      error.show(err);
      timer = setTimeout(refreshFiles, POLL_MS * 3);
    }
  }

  function fileRow(file) {
    return h(
      "tr",
      { "data-testid": `file-row-${file.filename}` },
      h("td", { class: "wrap" }, file.filename),
      h("td", { class: "hide-narrow" }, formatBytes(file.bytes)),
      h("td", {}, h("span", { class: `badge ${file.status}`, "data-testid": "file-status", title: t(`status.${file.status}`) }, file.status),
        file.reason ? h("div", { class: "error small", "data-testid": "file-reason" }, file.reason) : null),
      h("td", { class: "hide-narrow" }, String(file.chunks ?? "—")),
      h("td", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => detach(file.id) }, t("kb.remove"))),
    );
  }

  async function detach(fileId) {
    error.show(null);
    try {
      await api(`/v1/kbs/${encodeURIComponent(kb.id)}/files/${encodeURIComponent(fileId)}`, { method: "DELETE" });
      await refreshFiles();
      onChanged();
    } catch (err) {
      error.show(err);
    }
  }

  async function upload(file) {
    const bar = h("progress", { max: 1, value: 0, "data-testid": "upload-progress" });
    const state = h("span", { class: "muted small" }, t("kb.uploading"));
    const item = h("li", {}, h("span", { class: "wrap" }, file.name), bar, state);
    uploads.append(item);
    try {
      const stored = await uploadFile(file, { onProgress: (fraction) => (bar.value = fraction) });
      state.textContent = t("kb.attaching");
      await api(`/v1/kbs/${encodeURIComponent(kb.id)}/files`, { method: "POST", body: { file_ids: [stored.id] } });
      state.textContent = t("kb.uploaded");
      item.classList.add("done");
      setTimeout(() => item.remove(), 4000);
    } catch (err) {
      state.textContent = err.message;
      state.className = "error small";
    }
    await refreshFiles();
  }

  const uploadAll = (list) => Promise.all([...list].map(upload));
  drop.addEventListener("click", () => picker.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") picker.click();
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    uploadAll(event.dataTransfer.files);
  });
  picker.addEventListener("change", () => {
    uploadAll(picker.files);
    picker.value = "";
  });

  replace(
    container,
    h("section", { class: "card", "data-testid": "kb-detail" },
      h("h2", {}, kb.name, h("span", { class: "muted small" }, ` · ${kb.id} · ${t("kb.created", { time: formatTime(kb.created_at) })}`)),
      error,
      drop, picker, uploads,
      scrollTable(h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, t("kb.col.file")), h("th", { class: "hide-narrow" }, t("kb.col.size")),
          h("th", {}, t("kb.col.status")), h("th", { class: "hide-narrow" }, t("kb.col.chunks")), h("th", {}, ""))),
        files))),
    renderKbSearch(kb),
  );
  refreshFiles();
  return () => {
    closed = true;
    clearTimeout(timer);
  };
}
