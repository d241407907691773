// The quota and limit fields of a key, as a form fragment and as the API body they make.

import { field, h } from "../dom.js";
import { t } from "../i18n.js";

const LIMITS = [
  ["quota_tokens", "limits.quota_tokens", 1],
  ["quota", "limits.quota", 0.01],
  ["rpm", "limits.rpm", 1],
  ["tpm", "limits.tpm", 1],
];

export function limitFields(prefix, key = {}) {
  const inputs = {};
  for (const [name, , step] of LIMITS) {
    const value = key[name];
    inputs[name] = h("input", { type: "number", min: name === "rpm" || name === "tpm" ? 1 : 0, step, name,
      value: value === null || value === undefined ? "" : String(value), placeholder: t("common.unlimited"),
      "data-testid": `${prefix}-${name}` });
  }
  inputs.allowed_models = h("input", { name: "allowed_models", placeholder: t("limits.all_models"),
    value: key.allowed_models ? key.allowed_models.join(", ") : "" });
  inputs.expires_at = h("input", { type: "date", name: "expires_at",
    value: key.expires_at ? key.expires_at.slice(0, 10) : "" });
  const element = h("div", { class: "grid2" },
    LIMITS.map(([name, label]) => field(t(label), inputs[name])),
    field(t("limits.allowed_models"), inputs.allowed_models, t("limits.comma_separated")),
    field(t("limits.expires"), inputs.expires_at));
  return { element, inputs };
}

// Empty fields mean "no limit": sent as null on update (`clear`), left out on create.
export function limitsBody({ inputs }, clear) {
  const body = {};
  for (const [name] of LIMITS) {
    const raw = inputs[name].value;
    if (raw !== "") body[name] = Number(raw);
    else if (clear) body[name] = null;
  }
  const models = inputs.allowed_models.value.split(",").map((m) => m.trim()).filter(Boolean);
  if (models.length) body.allowed_models = models;
  else if (clear) body.allowed_models = null;
  if (inputs.expires_at.value) body.expires_at = `${inputs.expires_at.value}T23:59:59Z`;
  else if (clear) body.expires_at = null;
  return body;
}
