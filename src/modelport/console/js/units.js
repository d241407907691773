// What a usage row counts when it is not tokens: images drawn, Midjourney tasks, DeepL characters.
//
// - images (/v1/images/*): completion_tokens = images drawn, total_tokens 0; told by the model
//   (an image model in /v1/models) or the provider that drew them;
// - Midjourney tasks: models named `mj-…` (mj-imagine, mj-upscale …), completion_tokens = tasks;
//   a refund row has a negative cost;
// - DeepL (provider `deepl`): prompt_tokens = characters sent.

import { t } from "./i18n.js";

const IMAGE_PROVIDERS = new Set(["openai_images", "sd_webui", "stability"]);

// What the console knows about models beyond a row: image model ids, and each model's
// provider as seen in the request log.
export function productKinds(models, requests) {
  const images = new Set(
    (models?.data ?? []).filter((m) => (m.endpoints ?? []).includes("images/generations")).map((m) => m.id),
  );
  const providers = new Map();
  for (const row of requests ?? []) if (!providers.has(row.model)) providers.set(row.model, row.provider);
  return { images, providers };
}

// The row's units as a phrase ("2 images", "1 task (refund)", "340 chars"), or null for tokens.
export function unitsOf(row, kinds) {
  const model = row.model ?? "";
  const provider = row.provider ?? kinds?.providers.get(model);
  if (model.startsWith("mj-")) {
    return t("units.tasks", { n: row.completion_tokens }) + (row.cost < 0 ? t("units.refund") : "");
  }
  if (kinds?.images.has(model) || IMAGE_PROVIDERS.has(provider)) return t("units.images", { n: row.completion_tokens });
  if (provider === "deepl") return t("units.chars", { n: row.prompt_tokens });
  return null;
}
