// The channel form (admin): add a channel, or edit one (its keys left blank stay as they are).

import { field, h } from "../dom.js";
import { t } from "../i18n.js";

const PROVIDERS = ["openai_compat", "anthropic", "gemini", "ernie", "spark", "deepl"];

function lines(text) {
  return text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

function mappingText(mapping) {
  return Object.entries(mapping ?? {}).map(([from, to]) => `${from}=${to}`).join("\n");
}

function parseMapping(text) {
  const out = {};
  for (const line of text.split(/\n/).map((s) => s.trim()).filter(Boolean)) {
    const [from, ...rest] = line.split(/=/);
    if (!rest.length) throw new Error(t("channels.mappingInvalid", { line }));
    out[from.trim()] = rest.join("=").trim();
  }
  return out;
}

export function channelForm(onSubmit) {
  const inputs = {
    name: h("input", { required: true, maxlength: 200, "data-testid": "channel-name" }),
    provider: h("select", { "data-testid": "channel-provider" }, PROVIDERS.map((p) => h("option", { value: p }, p))),
    base_url: h("input", { type: "url", placeholder: "https://api.example.com/v1", "data-testid": "channel-base-url" }),
    api_keys: h("textarea", { rows: 2, "data-testid": "channel-keys" }),
    models: h("input", { required: true, placeholder: "gpt-4o-mini, deepseek-chat", "data-testid": "channel-models" }),
    mapping: h("textarea", { rows: 2, placeholder: "gpt-4o-mini=deepseek-chat", "data-testid": "channel-mapping" }),
    priority: h("input", { type: "number", value: "0", step: 1, "data-testid": "channel-priority" }),
    weight: h("input", { type: "number", value: "1", min: 0, step: 1, "data-testid": "channel-weight" }),
    groups: h("input", { placeholder: t("channels.groupsAll"), "data-testid": "channel-groups" }),
    prompt: h("input", { type: "number", min: 0, step: "any", "data-testid": "channel-price-prompt" }),
    completion: h("input", { type: "number", min: 0, step: "any", "data-testid": "channel-price-completion" }),
    auto_probe: h("input", { type: "checkbox", "data-testid": "channel-auto-probe" }),
  };
  const title = h("h2", {}, t("channels.new"));
  const submit = h("button", { type: "submit", "data-testid": "channel-save" }, t("channels.create"));
  const cancel = h("button", { type: "button", class: "secondary", hidden: true }, t("pages.cancel"));
  const form = h("form", { class: "card", "data-testid": "channel-form" },
    title,
    h("div", { class: "grid2" },
      field(t("channels.name"), inputs.name), field(t("channels.provider"), inputs.provider),
      field(t("channels.baseUrl"), inputs.base_url), field(t("channels.keys"), inputs.api_keys, t("channels.keysHint")),
      field(t("channels.models"), inputs.models), field(t("channels.mapping"), inputs.mapping, t("channels.mappingHint")),
      field(t("channels.priority"), inputs.priority, t("channels.priorityHint")), field(t("channels.weight"), inputs.weight),
      field(t("channels.groups"), inputs.groups), field(t("channels.pricePrompt"), inputs.prompt),
      field(t("channels.priceCompletion"), inputs.completion)),
    h("label", { class: "check" }, inputs.auto_probe, " ", t("channels.autoProbe")),
    h("div", { class: "row" }, submit, cancel));
  let editing = null;
  let price = null; // the edited channel's whole price: the form shows two of its fields

  function body() {
    const out = {
      name: inputs.name.value.trim(),
      provider: inputs.provider.value,
      base_url: inputs.base_url.value.trim() || null,
      models: lines(inputs.models.value),
      model_mapping: parseMapping(inputs.mapping.value),
      priority: Number(inputs.priority.value || 0),
      weight: Number(inputs.weight.value || 0),
      groups: inputs.groups.value.trim() ? lines(inputs.groups.value) : null,
      auto_probe: inputs.auto_probe.checked,
    };
    const keys = lines(inputs.api_keys.value);
    if (keys.length || !editing) out.api_keys = keys;
    if (inputs.prompt.value || inputs.completion.value) {
      out.price = { ...(price ?? {}), prompt: Number(inputs.prompt.value || 0), completion: Number(inputs.completion.value || 0) };
    } else if (editing) {
      out.price = null;
    }
    return out;
  }

  function reset() {
    editing = null;
    price = null;
    form.reset();
    inputs.api_keys.placeholder = "";
    title.textContent = t("channels.new");
    submit.textContent = t("channels.create");
    cancel.hidden = true;
  }

  form.edit = (channel) => {
    editing = channel.id;
    inputs.name.value = channel.name;
    inputs.provider.value = channel.provider;
    inputs.base_url.value = channel.base_url ?? "";
    inputs.api_keys.value = "";
    inputs.api_keys.placeholder = t("channels.keysKept", { keys: channel.api_keys.join(", ") });
    price = channel.price;
    inputs.models.value = channel.models.join(", ");
    inputs.mapping.value = mappingText(channel.model_mapping);
    inputs.priority.value = String(channel.priority);
    inputs.weight.value = String(channel.weight);
    inputs.groups.value = (channel.groups ?? []).join(", ");
    inputs.prompt.value = channel.price ? String(channel.price.prompt) : "";
    inputs.completion.value = channel.price ? String(channel.price.completion) : "";
    inputs.auto_probe.checked = channel.auto_probe;
    title.textContent = t("channels.editing", { name: channel.name });
    submit.textContent = t("pages.save");
    cancel.hidden = false;
    form.scrollIntoView({ block: "start" });
  };

  cancel.addEventListener("click", reset);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    const ok = await onSubmit(editing, body).finally(() => (submit.disabled = false));
    if (ok) reset();
  });
  return form;
}
