// Image playground: draw with an image model (POST /v1/images/generations), show each image
// with a download link.

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";
import { t } from "../i18n.js";

export function isImageModel(card) {
  return (card.endpoints ?? []).includes("images/generations");
}

export function renderImages(main) {
  let controller = null;
  const model = h("select", { name: "model", "data-testid": "image-model" });
  const prompt = h("textarea", {
    name: "prompt", rows: 3, required: true, maxlength: 32000,
    placeholder: t("images.prompt_placeholder"), "data-testid": "image-prompt",
  });
  // /v1/models does not list an image model's sizes: blank asks for the model's default.
  const size = h("input", {
    name: "size", placeholder: t("images.size_placeholder"), pattern: "^\\d+x\\d+$|^auto$",
    "data-testid": "image-size",
  });
  const n = h("input", { type: "number", name: "n", value: "1", min: 1, max: 10, step: 1, "data-testid": "image-n" });
  // Disabled until the model list arrives (no model to ask before then).
  const draw = h("button", { type: "submit", disabled: true, "data-testid": "image-draw" }, t("images.generate"));
  const status = h("p", { class: "muted", "data-testid": "image-status", "aria-live": "polite" });
  const error = errorLine();
  const gallery = h("div", { class: "gallery", "data-testid": "image-results" });

  async function onDraw(event) {
    event.preventDefault();
    if (controller || !model.value || !prompt.value.trim()) return;
    const body = { model: model.value, prompt: prompt.value.trim(), n: Number(n.value) || 1, response_format: "url" };
    if (size.value.trim()) body.size = size.value.trim();
    controller = new AbortController();
    draw.disabled = true;
    error.show(null);
    status.textContent = t("images.generating", { n: body.n });
    replace(gallery);
    gallery.classList.add("loading");
    try {
      const answer = await api("/v1/images/generations", { method: "POST", body, signal: controller.signal });
      replace(gallery, answer.data.map((image, i) => figure(image, i)));
      status.textContent = t("images.done", { n: answer.data.length, model: body.model });
    } catch (err) {
      if (err.name === "AbortError") return;
      status.textContent = "";
      error.show(err);
    } finally {
      gallery.classList.remove("loading");
      controller = null;
      draw.disabled = !model.value;
    }
  }

  const form = h("form", { class: "card" },
    field(t("images.model"), model),
    field(t("images.prompt"), prompt),
    h("div", { class: "grid2" }, field(t("images.size"), size), field(t("images.n"), n)),
    h("div", { class: "row" }, draw),
    status,
    error,
  );
  form.addEventListener("submit", onDraw);
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  replace(main, h("h1", {}, t("images.title")), form, h("section", { class: "card" }, h("h2", {}, t("images.results")), gallery));
  status.textContent = t("common.loading");

  api("/v1/models").then(
    (models) => {
      const choices = models.data.filter(isImageModel);
      replace(model, choices.map((m) => h("option", { value: m.id }, m.id)));
      status.textContent = choices.length ? "" : t("images.no_models");
      draw.disabled = !model.value;
    },
    (err) => {
      status.textContent = "";
      error.show(err);
    },
  );
  return () => controller?.abort();
}

function figure(image, i) {
  const name = `image-${i + 1}.png`;
  return h("figure", { class: "drawn", "data-testid": "image-result" },
    h("img", { src: image.url, alt: image.revised_prompt ?? t("images.alt", { n: i + 1 }), loading: "lazy" }),
    h("figcaption", {},
      h("a", { href: image.url, download: name, target: "_blank", rel: "noopener", "data-testid": "image-download" }, t("images.download")),
      image.revised_prompt ? h("span", { class: "muted small" }, ` ${image.revised_prompt}`) : null),
  );
}
