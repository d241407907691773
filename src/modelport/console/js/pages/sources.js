// The sources of a grounded answer: file name, page and the cited text of each passage.

import { h } from "../dom.js";
import { t } from "../i18n.js";

export function renderSources(cites) {
  if (!cites.length) return null;
  return h(
    "div",
    { class: "sources", "data-testid": "sources" },
    h("h4", {}, t("sources.title", { n: cites.length })),
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
            cite.page ? h("span", { class: "muted" }, ` · ${t("sources.page", { page: cite.page })}`) : null,
            cite.score !== undefined ? h("span", { class: "muted" }, ` · ${t("sources.score", { score: cite.score.toFixed(3) })}`) : null,
            cite.url ? h("a", { href: cite.url, target: "_blank", rel: "noopener noreferrer" }, " ↗") : null,
          ),
          h("blockquote", { class: "source-text" }, cite.content),
        ),
      ),
    ),
  );
}
