// The console shell: sign-in gate, hash routing between pages, each page's clean-up; the
// header's language and theme choices; a 401 from any call goes back to sign-in.

import { api, setUnauthorizedHandler } from "./api.js";
import { replace } from "./dom.js";
import { getLocale, onLocaleChange, setLocale, t, translateStatic } from "./i18n.js";
import { restoreSession, signOutSession } from "./account.js";
import { clearKey, getKey, setCsrf } from "./session.js";
import { getTheme, setTheme } from "./theme.js";
import { renderSignIn } from "./pages/signin.js";
import { renderPlayground } from "./pages/playground.js";
import { renderKbs } from "./pages/kbs.js";
import { renderKeys } from "./pages/keys.js";
import { renderUsage } from "./pages/usage.js";
import { renderImages } from "./pages/images.js";
import { renderTranslate } from "./pages/translate.js";
import { renderMidjourney } from "./pages/midjourney.js";
import { renderChannels } from "./pages/channels.js";
import { renderUsers } from "./pages/users.js";
import { renderGroups } from "./pages/groups.js";
import { renderCodesPage } from "./pages/codes.js";
import { renderMyKeys, renderRedeemPage } from "./pages/my_keys.js";
import { renderLogs } from "./pages/logs.js";
import { renderDashboard } from "./pages/dashboard.js";

// A new page: its render function here, a nav link in index.html, its words in locales/.
const PAGES = {
  playground: { render: renderPlayground },
  kbs: { render: renderKbs },
  keys: { render: renderKeys, admin: true },
  usage: { render: renderUsage },
  images: { render: renderImages },
  translate: { render: renderTranslate },
  midjourney: { render: renderMidjourney },
  dashboard: { render: renderDashboard },
  logs: { render: renderLogs },
  mykeys: { render: renderMyKeys },
  redeem: { render: renderRedeemPage },
  channels: { render: renderChannels, admin: true },
  users: { render: renderUsers, admin: true },
  groups: { render: renderGroups, admin: true },
  codes: { render: renderCodesPage, admin: true },
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const whoami = document.getElementById("whoami");
const signOut = document.getElementById("signout");
const lang = document.getElementById("lang");
const theme = document.getElementById("theme");
let me = null;
let cleanup = null;
let signInNotice = null; // why the user is back at sign-in (an error), shown there once

function showChrome(signedIn) {
  nav.hidden = !signedIn;
  whoami.hidden = !signedIn;
  signOut.hidden = !signedIn;
  for (const link of nav.querySelectorAll("[data-admin]")) link.hidden = !me?.is_admin;
  whoami.textContent = signedIn ? `${me.name} (${me.display})` : "";
}

function route() {
  cleanup?.();
  cleanup = null;
  if (!me) {
    showChrome(false);
    const notice = signInNotice;
    signInNotice = null;
    renderSignIn(main, onSignedIn, notice);
    return;
  }
  showChrome(true);
  let name = location.hash.replace(/^#\/?/, "") || "playground";
  if (!PAGES[name] || (PAGES[name].admin && !me.is_admin)) name = "playground";
  for (const link of nav.querySelectorAll("a")) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  replace(main);
  cleanup = PAGES[name].render(main, { me }) ?? null;
}

function onSignedIn(info) {
  me = info;
  route();
}

setUnauthorizedHandler((error) => {
  if (!me) return; // the sign-in form shows its own error
  clearKey();
  setCsrf(null);
  me = null;
  signInNotice = error;
  route();
});

signOut.addEventListener("click", async () => {
  if (!getKey()) await signOutSession().catch(() => {}); // an account's session ends server-side
  clearKey();
  me = null;
  location.hash = "";
  route();
});
window.addEventListener("hashchange", route);
window.addEventListener("console:retry", () => start());

lang.value = getLocale();
lang.addEventListener("change", () => setLocale(lang.value));
onLocaleChange(() => route()); // every page draws its words again
theme.value = getTheme();
theme.addEventListener("change", () => setTheme(theme.value));

async function start() {
  const session = !getKey() && !me ? await restoreSession() : null;
  if (session) {
    try {
      // The account's console key, through the session cookie; shown by the account's name.
      me = { ...(await api("/v1/key")), name: session.user.username };
    } catch {
      me = null;
    }
  }
  if (getKey() && !me) {
    try {
      me = await api("/v1/key");
    } catch (err) {
      if (err.code === "network") {
        // The server is down: keep the key and say so, with a retry.
        cleanup?.();
        cleanup = null;
        showChrome(false);
        renderSignIn(main, onSignedIn, err);
        return;
      }
      clearKey();
      signInNotice = err.status === 401 ? err : null;
    }
  }
  route();
}

translateStatic();
document.title = t("app.title");
start();
