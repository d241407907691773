// Test retrieval: the passages a query would cite from one knowledge base, with scores.

import { api } from "../api.js";
import { errorLine, h, replace } from "../dom.js";
import { t } from "../i18n.js";

export function renderKbSearch(kb) {
  const query = h("input", { type: "search", name: "query", required: true, placeholder: t("kb_search.placeholder"), "data-testid": "kb-search-query" });
  const results = h("ol", { class: "hits", "data-testid": "kb-search-results" });
  const note = h("p", { class: "muted small" });
  const error = errorLine();
  const form = h("form", { class: "row" }, query, h("button", { type: "submit", "data-testid": "kb-search-submit" }, t("kb_search.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    note.textContent = t("common.searching");
    replace(results);
    try {
      const found = await api(`/v1/kbs/${encodeURIComponent(kb.id)}/search`, { method: "POST", body: { query: query.value } });
      replace(results, found.data.map((hit) =>
        h("li", { class: "hit", "data-testid": "kb-search-hit" },
          h("div", { class: "source-head" },
            h("strong", {}, hit.filename),
            hit.page ? h("span", { class: "muted" }, ` · ${t("sources.page", { page: hit.page })}`) : null,
            hit.heading ? h("span", { class: "muted" }, ` · ${hit.heading}`) : null,
            h("span", { class: "score", "data-testid": "kb-search-score" }, hit.score.toFixed(3))),
          h("blockquote", { class: "source-text" }, hit.content))));
      const pending = found.pending_files ? ` ${t("kb_search.pending", { n: found.pending_files })}` : "";
      note.textContent = t("kb_search.found", { n: found.data.length }) + pending;
    } catch (err) {
      note.textContent = "";
      error.show(err);
    }
  });
  return h("section", { class: "card" }, h("h2", {}, t("kb_search.title")), form, error, note, results);
}
