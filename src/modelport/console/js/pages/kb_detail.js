// One knowledge base: drag-and-drop upload with progress, files with live ingestion status,
// and the test-retrieval box.

import { api } from "../api.js";
import { errorLine, formatTime, h, replace } from "../dom.js";
import { uploadFile } from "../upload.js";
import { renderKbSearch } from "./kb_search.js";

const POLL_MS = 1000;
const BUSY = new Set(["init", "parsing"]);

function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function renderKbDetail(container, kb, onChanged) {
  let timer = null;
  let closed = false;
  const error = errorLine();
  const files = h("tbody", { "data-testid": "kb-files" });
  const uploads = h("ul", { class: "uploads", "data-testid": "uploads" });
  const picker = h("input", { type: "file", multiple: true, hidden: true, "data-testid": "file-input" });
  const drop = h(
    "div",
    { class: "dropzone", tabindex: 0, role: "button", "data-testid": "dropzone" },
    h("strong", {}, "Drop files here"),
    h("span", { class: "muted" }, " or click to choose (PDF, Word, text, Markdown, HTML)"),
  );

  async function refreshFiles() {
    if (closed) return;
    clearTimeout(timer);
    try {
      const list = (await api(`/v1/kbs/${encodeURIComponent(kb.id)}/files`)).data;
      if (closed) return;
      replace(files, list.length ? list.map(fileRow) : h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No files yet.")));
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
      h("td", {}, h("span", { class: `badge ${file.status}`, "data-testid": "file-status" }, file.status),
        file.reason ? h("div", { class: "error small", "data-testid": "file-reason" }, file.reason) : null),
      h("td", { class: "hide-narrow" }, String(file.chunks ?? "—")),
      h("td", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => detach(file.id) }, "Remove")),
    );
  }

  async function detach(fileId) {
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
    const state = h("span", { class: "muted small" }, "uploading…");
    const item = h("li", {}, h("span", { class: "wrap" }, file.name), bar, state);
    uploads.append(item);
    try {
      const stored = await uploadFile(file, { onProgress: (fraction) => (bar.value = fraction) });
      state.textContent = "attaching…";
      await api(`/v1/kbs/${encodeURIComponent(kb.id)}/files`, { method: "POST", body: { file_ids: [stored.id] } });
      state.textContent = "uploaded";
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
      h("h2", {}, kb.name, h("span", { class: "muted small" }, ` · ${kb.id} · created ${formatTime(kb.created_at)}`)),
      error,
      drop, picker, uploads,
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", { class: "hide-narrow" }, "Size"), h("th", {}, "Status"),
          h("th", { class: "hide-narrow" }, "Chunks"), h("th", {}, ""))),
        files))),
    renderKbSearch(kb),
  );
  refreshFiles();
  return () => {
    closed = true;
    clearTimeout(timer);
  };
}
