// Playground: chat with a model (and knowledge bases), streamed as it arrives, stoppable.

import { api } from "../api.js";
import { streamChat } from "../chat_stream.js";
import { errorLine, field, formatTime, h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { codePanel } from "./code_panel.js";
import { renderSources } from "./sources.js";

const DEFAULTS = { temperature: 0.3, top_p: 0.85, top_k: 5, max_tokens: 256 };

function numberInput(name, value, min, max, step) {
  return h("input", { type: "number", name, value: String(value), min, max, step, "data-testid": `param-${name}` });
}

export function renderPlayground(main) {
  const history = [];
  let controller = null;

  const model = h("select", { name: "model", "data-testid": "model" });
  const kbList = h("div", { class: "checklist", "data-testid": "kb-choices" }, h("span", { class: "muted" }, t("common.loading")));
  const params = {
    temperature: numberInput("temperature", DEFAULTS.temperature, 0, 2, 0.05),
    top_p: numberInput("top_p", DEFAULTS.top_p, 0, 1, 0.05),
    top_k: numberInput("top_k", DEFAULTS.top_k, 0, 20, 1),
    max_tokens: numberInput("max_tokens", DEFAULTS.max_tokens, 1, 8192, 1),
  };
  const system = h("textarea", { name: "system", rows: 3, placeholder: t("play.system_placeholder"), "data-testid": "system" });
  const transcript = h("div", { class: "transcript", "data-testid": "transcript", "aria-live": "polite" },
    h("p", { class: "muted empty" }, t("play.empty")));
  const prompt = h("textarea", { name: "prompt", rows: 3, required: true, placeholder: t("play.prompt_placeholder"), "data-testid": "prompt" });
  // Disabled until the model list arrives: a send before then would have no model to ask.
  const send = h("button", { type: "submit", disabled: true, "data-testid": "send" }, t("play.send"));
  const stop = h("button", { type: "button", class: "danger", disabled: true, "data-testid": "stop" }, t("play.stop"));
  const clear = h("button", { type: "button", class: "secondary" }, t("play.clear"));
  const error = errorLine();
  const code = codePanel();

  function selectedKbs() {
    return [...kbList.querySelectorAll("input:checked")].map((box) => box.value);
  }

  // The request the next send would make (with the prompt as the last user turn).
  function requestBody(nextPrompt = prompt.value) {
    const messages = [];
    if (system.value.trim()) messages.push({ role: "system", content: system.value.trim() });
    messages.push(...history);
    if (nextPrompt.trim()) messages.push({ role: "user", content: nextPrompt.trim() });
    const body = { model: model.value, messages };
    for (const [name, input] of Object.entries(params)) {
      if (input.value !== "") body[name] = Number(input.value);
    }
    const kbs = selectedKbs();
    if (kbs.length) body.knowledge_base = { ids: kbs };
    return body;
  }

  // With a prompt typed: the request Send would make; otherwise the last one sent.
  let lastBody = null;
  const refreshCode = () => code.update(prompt.value.trim() || !lastBody ? requestBody() : lastBody);

  function addMessage(role, text) {
    transcript.querySelector(".empty")?.remove();
    const content = h("div", { class: "content", "data-testid": `${role}-output` }, text);
    const meta = h("div", { class: "meta muted" });
    const message = h("div", { class: `msg ${role}` }, h("div", { class: "role" }, t(`play.role.${role}`)), content, meta);
    transcript.append(message);
    transcript.scrollTop = transcript.scrollHeight;
    return { message, content, meta };
  }

  async function onSend(event) {
    event.preventDefault();
    if (controller || !prompt.value.trim() || !model.value) return;
    const body = requestBody();
    lastBody = body;
    const userText = prompt.value.trim();
    addMessage("user", userText);
    prompt.value = "";
    const reply = addMessage("assistant", "");
    reply.message.classList.add("streaming");
    error.show(null);
    controller = new AbortController();
    send.disabled = true;
    stop.disabled = false;
    let text = "";
    try {
      const result = await streamChat(body, {
        signal: controller.signal,
        onText: (piece) => {
          text += piece;
          reply.content.append(piece);
          transcript.scrollTop = transcript.scrollHeight;
        },
      });
      const usage = result.usage
        ? ` · ${t("play.usage", { prompt: result.usage.prompt_tokens, completion: result.usage.completion_tokens })}` : "";
      reply.meta.textContent = t("play.finish", { reason: result.finishReason ?? "?" }) + usage;
      const sources = renderSources([...result.cites, ...result.searchSources]);
      if (sources) reply.message.append(sources);
      history.push({ role: "user", content: userText }, { role: "assistant", content: text });
    } catch (err) {
      if (err.name === "AbortError") {
        reply.meta.textContent = t("play.stopped");
        reply.message.classList.add("stopped");
        history.push({ role: "user", content: userText }, { role: "assistant", content: text });
      } else {
        reply.meta.textContent = t("play.failed");
        error.show(err);
      }
    } finally {
      reply.message.classList.remove("streaming");
      controller = null;
      send.disabled = false;
      stop.disabled = true;
      refreshCode();
    }
  }

  stop.addEventListener("click", () => controller?.abort());
  clear.addEventListener("click", () => {
    controller?.abort();
    history.length = 0;
    lastBody = null;
    replace(transcript, h("p", { class: "muted empty" }, t("play.empty")));
    refreshCode();
  });
  prompt.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });

  const form = h("form", { class: "composer" }, prompt, h("div", { class: "row" }, send, stop, clear));
  form.addEventListener("submit", onSend);
  const settings = h(
    "aside",
    { class: "card settings" },
    h("h2", {}, t("play.settings")),
    field(t("play.model"), model),
    h("div", { class: "field" }, h("span", {}, t("play.kbs")), kbList),
    h("div", { class: "grid2" },
      field("temperature", params.temperature),
      field("top_p", params.top_p),
      field("top_k", params.top_k),
      field("max_tokens", params.max_tokens)),
    field(t("play.system"), system),
  );
  settings.addEventListener("input", refreshCode);
  settings.addEventListener("change", refreshCode);
  prompt.addEventListener("input", refreshCode);

  replace(
    main,
    h("h1", {}, t("play.title")),
    h("div", { class: "playground" }, h("section", { class: "card chat" }, transcript, error, form), settings),
    code,
  );

  loadChoices(model, kbList).then(
    () => {
      send.disabled = !model.value;
      refreshCode();
    },
    (err) => {
      replace(kbList);
      error.show(err);
    },
  );
  return () => controller?.abort();
}

// "kb_8f3a2c…" → "8f3a2c": enough to tell two bases of one name apart.
export function shortId(id) {
  return id.replace(/^kb[-_]?/, "").slice(0, 6);
}

async function loadChoices(model, kbList) {
  const [models, kbs] = await Promise.all([api("/v1/models"), api("/v1/kbs").catch(() => ({ data: [] }))]);
  const chat = models.data.filter((m) => !m.endpoints || m.endpoints.includes("chat/completions"));
  replace(model, chat.map((m) => h("option", { value: m.id }, m.id)));
  // Bases may share a name: each shows its short id and creation date beside it.
  const names = new Map();
  for (const kb of kbs.data) names.set(kb.name, (names.get(kb.name) ?? 0) + 1);
  replace(
    kbList,
    kbs.data.length
      ? kbs.data.map((kb) =>
          h("label", { class: "check", title: kb.id },
            h("input", { type: "checkbox", value: kb.id, "data-testid": `kb-choice-${kb.name}`, dataset: { kbId: kb.id } }),
            ` ${kb.name} `,
            h("span", { class: "muted small", "data-testid": "kb-choice-id" }, `${shortId(kb.id)} · ${formatTime(kb.created_at)}`),
            names.get(kb.name) > 1 ? h("span", { class: "badge init" }, t("play.same_name")) : null),
        )
      : h("span", { class: "muted" }, t("play.no_kbs")),
  );
}
