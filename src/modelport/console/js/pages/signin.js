// Sign-in: check the key against GET /v1/key, then keep it in sessionStorage.

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";
import { setKey } from "../session.js";

export function renderSignIn(main, onSignedIn) {
  const input = h("input", {
    type: "password",
    name: "api_key",
    autocomplete: "off",
    required: true,
    placeholder: "sk-…",
    "data-testid": "signin-key",
  });
  const error = errorLine();
  const button = h("button", { type: "submit", "data-testid": "signin-submit" }, "Sign in");
  const form = h(
    "form",
    { class: "card signin" },
    h("h1", {}, "Sign in"),
    h("p", { class: "muted" }, "Use an API key of this server. It is kept in this browser tab only."),
    field("API key", input),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    button.disabled = true;
    error.show(null);
    try {
      const info = await api("/v1/key", { key });
      setKey(key);
      onSignedIn(info);
    } catch (err) {
      error.show(err);
    } finally {
      button.disabled = false;
    }
  });
  replace(main, form);
  input.focus();
}
