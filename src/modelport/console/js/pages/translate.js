// Translation: one text into one language by a DeepL model or a chat model (POST /v1/translate),
// with the language the source was detected as.

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";

// DeepL's target codes (case does not matter to the API); any other code may be typed.
const LANGUAGES = [
  ["ZH", "Chinese"], ["EN-US", "English (American)"], ["EN-GB", "English (British)"], ["JA", "Japanese"],
  ["KO", "Korean"], ["DE", "German"], ["FR", "French"], ["ES", "Spanish"], ["IT", "Italian"],
  ["PT-BR", "Portuguese (Brazilian)"], ["RU", "Russian"], ["AR", "Arabic"], ["NL", "Dutch"],
  ["PL", "Polish"], ["TR", "Turkish"], ["UK", "Ukrainian"],
];
const LANG = "^[A-Za-z]{2,3}(-[A-Za-z]+)?$";

export function renderTranslate(main) {
  let controller = null;
  const text = h("textarea", {
    name: "text", rows: 6, required: true, maxlength: 8192,
    placeholder: "Text to translate…", "data-testid": "translate-text",
  });
  const target = h("input", {
    name: "target_lang", value: "ZH", required: true, pattern: LANG, list: "translate-langs",
    "data-testid": "translate-target",
  });
  const source = h("input", {
    name: "source_lang", pattern: LANG, list: "translate-langs", placeholder: "detect",
    "data-testid": "translate-source",
  });
  const langs = h("datalist", { id: "translate-langs" }, LANGUAGES.map(([code, name]) => h("option", { value: code }, name)));
  const model = h("select", { name: "model", "data-testid": "translate-model" },
    h("option", { value: "" }, "Server default"));
  const go = h("button", { type: "submit", "data-testid": "translate-submit" }, "Translate");
  const status = h("p", { class: "muted", "data-testid": "translate-status", "aria-live": "polite" });
  const error = errorLine();
  const output = h("div", { class: "translation", "data-testid": "translate-output" });
  const detected = h("p", { class: "muted small", "data-testid": "translate-detected" });

  async function onTranslate(event) {
    event.preventDefault();
    if (controller || !text.value.trim()) return;
    const body = { text: text.value, target_lang: target.value.trim() };
    if (source.value.trim()) body.source_lang = source.value.trim();
    if (model.value) body.model = model.value;
    controller = new AbortController();
    go.disabled = true;
    error.show(null);
    status.textContent = "Translating…";
    output.classList.add("loading");
    try {
      const answer = await api("/v1/translate", { method: "POST", body, signal: controller.signal });
      const one = answer.translations[0];
      output.textContent = one.text;
      detected.textContent = one.detected_source_lang
        ? `Detected source language: ${one.detected_source_lang}`
        : body.source_lang ? `Source language: ${body.source_lang}` : "Source language: not reported by this model";
      const usage = answer.usage;
      status.textContent = `${answer.model} · ${usage.prompt_tokens} + ${usage.completion_tokens} billed units`;
    } catch (err) {
      if (err.name === "AbortError") return;
      status.textContent = "";
      error.show(err);
    } finally {
      output.classList.remove("loading");
      controller = null;
      go.disabled = false;
    }
  }

  const form = h("form", { class: "card" },
    field("Text", text),
    h("div", { class: "grid2" },
      field("Into (target_lang)", target, "A DeepL code: ZH, EN-US, JA…"),
      field("From (source_lang)", source, "Blank: detected")),
    field("Model", model, "A DeepL model, or any chat model"),
    langs,
    h("div", { class: "row" }, go),
    status,
    error,
  );
  form.addEventListener("submit", onTranslate);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  replace(main, h("h1", {}, "Translate"), h("div", { class: "kb-layout" },
    form, h("section", { class: "card" }, h("h2", {}, "Translation"), output, detected)));

  api("/v1/models").then(
    (models) => {
      const chat = models.data.filter((m) => !m.endpoints || m.endpoints.includes("chat/completions"));
      model.append(...chat.map((m) => h("option", { value: m.id }, m.id)));
    },
    (err) => error.show(err),
  );
  return () => controller?.abort();
}
