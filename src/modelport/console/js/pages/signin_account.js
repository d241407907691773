// The username + password form of the sign-in page (sign-up when the server allows it, and
// the single sign-on button when a provider is configured). The API-key form stays below it.

import { api } from "../api.js";
import { authOptions, oidcLoginUrl, signInWithPassword } from "../account.js";
import { errorLine, field, h } from "../dom.js";

export function accountForm(onSignedIn, words) {
  const username = h("input", {
    name: "username",
    autocomplete: "username",
    required: true,
    "data-testid": "signin-username",
  });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
    "data-testid": "signin-password",
  });
  const error = errorLine();
  const title = h("h1", {}, words.signIn);
  const button = h("button", { type: "submit", "data-testid": "signin-account-submit" }, words.signIn);
  let signUp = false;
  const toggle = h("a", { href: "#", hidden: true, "data-testid": "signup-toggle" }, words.toSignUp);
  const sso = h("a", { class: "button", hidden: true, "data-testid": "signin-oidc", href: oidcLoginUrl() });
  toggle.addEventListener("click", (event) => {
    event.preventDefault();
    signUp = !signUp;
    title.textContent = button.textContent = signUp ? words.signUp : words.signIn;
    toggle.textContent = signUp ? words.toSignIn : words.toSignUp;
    password.autocomplete = signUp ? "new-password" : "current-password";
    error.show(null);
  });
  const form = h(
    "form",
    { class: "card signin", "data-testid": "signin-account" },
    title,
    field(words.username, username),
    field(words.password, password),
    error,
    button,
    h("p", { class: "muted" }, toggle),
    sso,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.show(null);
    try {
      const session = await signInWithPassword(username.value.trim(), password.value, { signUp });
      // The account's console key, through the cookie; shown by the account's name.
      onSignedIn({ ...(await api("/v1/key")), name: session.user.username });
    } catch (err) {
      error.show(err);
    } finally {
      button.disabled = false;
    }
  });
  authOptions().then((options) => {
    toggle.hidden = !options.signup;
    if (options.oidc) {
      sso.textContent = options.oidc_label || words.sso;
      sso.hidden = false;
    }
  });
  return { form, focus: () => username.focus() };
}
