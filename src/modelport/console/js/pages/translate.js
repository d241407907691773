// Translation: one text into one language by a DeepL model or a chat model (POST /v1/translate),
// with the language the source was detected as.

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";
import { getLocale, t } from "../i18n.js";

// DeepL's target codes (case does not matter to the API); any other code may be typed.
// Their names come from Intl.DisplayNames in the console's language.
const LANGUAGES = ["ZH", "EN-US", "EN-GB", "JA", "KO", "DE", "FR", "ES", "IT", "PT-BR", "RU", "AR", "NL", "PL", "TR", "UK"];
const BCP47 = { UK: "uk", "EN-US": "en-US", "EN-GB": "en-GB", "PT-BR": "pt-BR" };

function languageName(code) {
  try {
    return new Intl.DisplayNames([getLocale()], { type: "language" }).of(BCP47[code] ?? code.toLowerCase()) ?? code;
  } catch {
    return code;
  }
}
const LANG = "^[A-Za-z]{2,3}(-[A-Za-z]+)?$";

export function renderTranslate(main) {
  let controller = null;
  const text = h("textarea", {
    name: "text", rows: 6, required: true, maxlength: 8192,
    placeholder: t("translate.text_placeholder"), "data-testid": "translate-text",
  });
  const target = h("input", {
    name: "target_lang", value: "ZH", required: true, pattern: LANG, list: "translate-langs",
    "data-testid": "translate-target",
  });
  const source = h("input", {
    name: "source_lang", pattern: LANG, list: "translate-langs", placeholder: t("translate.detect"),
    "data-testid": "translate-source",
  });
  const langs = h("datalist", { id: "translate-langs" }, LANGUAGES.map((code) => h("option", { value: code }, languageName(code))));
  const model = h("select", { name: "model", "data-testid": "translate-model" },
    h("option", { value: "" }, t("translate.server_default")));
  const go = h("button", { type: "submit", "data-testid": "translate-submit" }, t("translate.submit"));
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
    status.textContent = t("translate.working");
    output.textContent = "";
    detected.textContent = "";
    output.classList.add("loading");
    try {
      const answer = await api("/v1/translate", { method: "POST", body, signal: controller.signal });
      const one = answer.translations[0];
      output.textContent = one.text;
      detected.textContent = one.detected_source_lang
        ? t("translate.detected", { lang: one.detected_source_lang })
        : body.source_lang ? t("translate.source", { lang: body.source_lang }) : t("translate.not_reported");
      const usage = answer.usage;
      status.textContent = t("translate.billed", { model: answer.model, prompt: usage.prompt_tokens, completion: usage.completion_tokens });
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
    field(t("translate.text"), text),
    h("div", { class: "grid2" },
      field(t("translate.target"), target, t("translate.target_hint")),
      field(t("translate.source_field"), source, t("translate.source_hint"))),
    field(t("translate.model"), model, t("translate.model_hint")),
    langs,
    h("div", { class: "row" }, go),
    status,
    error,
  );
  form.addEventListener("submit", onTranslate);
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  replace(main, h("h1", {}, t("translate.title")), h("div", { class: "kb-layout" },
    form, h("section", { class: "card" }, h("h2", {}, t("translate.output")), output, detected)));

  api("/v1/models").then(
    (models) => {
      const chat = models.data.filter((m) => !m.endpoints || m.endpoints.includes("chat/completions"));
      model.append(...chat.map((m) => h("option", { value: m.id }, m.id)));
    },
    (err) => error.show(err),
  );
  return () => controller?.abort();
}
