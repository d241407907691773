// The sources of a grounded answer: file name, page and the cited text of each passage.

import { h } from "../dom.js";

export function renderSources(cites) {
  if (!cites.length) return null;
  return h(
    "div",
    { class: "sources", "data-testid": "sources" },
    h("h4", {}, `Sources (${cites.length})`),
    h(
      "ol",
      {},
      cites.map((cite) =>
        h(
          "li",
          { class: "source", "data-testid": "source" },
          h(
            "div",
            { class: "source-head" },
            h("strong", { class: "source-file" }, cite.title),
            cite.page ? h("span", { class: "muted" }, ` · page ${cite.page}`) : null,
            cite.score !== undefined ? h("span", { class: "muted" }, ` · score ${cite.score.toFixed(3)}`) : null,
            cite.url ? h("a", { href: cite.url, target: "_blank", rel: "noopener noreferrer" }, " ↗") : null,
          ),
          h("blockquote", { class: "source-text" }, cite.content),
        ),
      ),
    ),
  );
}
