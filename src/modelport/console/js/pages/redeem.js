// Redeem a code onto the signed-in key, and show the key's balance afterwards.

import { api } from "../api.js";
import { errorLine, h } from "../dom.js";

export function renderRedeem() {
  const code = h("input", { name: "code", required: true, placeholder: "Redemption code", "data-testid": "redeem-code" });
  const result = h("p", { class: "muted", "data-testid": "redeem-result" });
  const error = errorLine();
  const form = h("form", { class: "row" }, code, h("button", { type: "submit" }, "Redeem"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.show(null);
    try {
      const done = await api("/v1/redeem", { method: "POST", body: { code: code.value.trim() } });
      const key = done.key;
      result.textContent = `Credited ${done.credited_tokens} tokens and ${(done.credited_micros / 1e6).toFixed(2)}. ` +
        `Quota now ${key.quota_tokens ?? "unlimited"} tokens, ${key.quota ?? "unlimited"} money.`;
      code.value = "";
    } catch (err) {
      error.show(err);
    }
  });
  return h("section", { class: "card" }, h("h2", {}, "Redeem a code"), form, error, result);
}
