// Redeem a code onto the signed-in key, and show the key's balance afterwards. A key with no
// quota is unlimited and stays so (the server spends the code and changes nothing): say that.

import { api } from "../api.js";
import { errorLine, h } from "../dom.js";
import { formatMoney, formatNumber, t } from "../i18n.js";

export function creditText(done, currency = "USD") {
  const key = done.user ?? done.key; // a key of a user tops up the user's quota
  const credited = t("redeem.credited", { tokens: formatNumber(done.credited_tokens), money: formatMoney(done.credited_micros / 1e6, currency) });
  if (key.quota_tokens === null && key.quota === null) return `${credited} ${t("redeem.unlimited")}`;
  const tokens = key.quota_tokens === null ? t("common.unlimited") : formatNumber(key.quota_tokens);
  const money = key.quota === null ? t("common.unlimited") : formatMoney(key.quota, currency);
  return `${credited} ${t("redeem.now", { tokens, money })}`;
}

export function renderRedeem(currency) {
  const code = h("input", { name: "code", required: true, placeholder: t("redeem.placeholder"), "data-testid": "redeem-code" });
  const result = h("p", { class: "muted", "data-testid": "redeem-result" });
  const error = errorLine();
  const button = h("button", { type: "submit", "data-testid": "redeem-submit" }, t("redeem.submit"));
  const form = h("form", { class: "row" }, code, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    result.textContent = ""; // a new attempt: the last one's outcome no longer stands
    button.disabled = true;
    try {
      const done = await api("/v1/redeem", { method: "POST", body: { code: code.value.trim() } });
      result.textContent = creditText(done, currency);
      code.value = "";
    } catch (err) {
      error.show(err);
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card" }, h("h2", {}, t("redeem.title")), form, error, result);
}
