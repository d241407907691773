// Sign-in: check the key against GET /v1/key, then keep it in sessionStorage. `notice` is why
// the user is here again (the key was revoked mid-session, the server was out of reach).

import { api } from "../api.js";
import { errorLine, field, h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { setKey } from "../session.js";
import { accountForm } from "./signin_account.js";

// The account form's words, in the chosen language (the page is drawn again on a switch).
function accountWords() {
  return {
    signIn: t("signin.account_title"),
    signUp: t("signin.signup_title"),
    toSignUp: t("signin.to_signup"),
    toSignIn: t("signin.to_signin"),
    username: t("signin.username"),
    password: t("signin.password"),
    sso: t("signin.sso"),
  };
}

export function renderSignIn(main, onSignedIn, notice = null) {
  const input = h("input", {
    type: "password",
    name: "api_key",
    autocomplete: "off",
    required: true,
    placeholder: t("signin.placeholder"),
    "data-testid": "signin-key",
  });
  const error = errorLine();
  const button = h("button", { type: "submit", "data-testid": "signin-submit" }, t("signin.submit"));
  const form = h(
    "form",
    { class: "card signin" },
    h("h1", {}, t("signin.title")),
    h("p", { class: "muted" }, t("signin.intro")),
    field(t("signin.key"), input),
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
  const account = accountForm(onSignedIn, accountWords());
  form.prepend(h("p", { class: "muted" }, t("signin.or_key")));
  replace(main, account.form, form);
  if (notice) error.show(notice);
  account.focus();
}
