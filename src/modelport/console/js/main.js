// The console shell: sign-in gate, hash routing between pages, each page's clean-up.

import { api } from "./api.js";
import { replace } from "./dom.js";
import { clearKey, getKey } from "./session.js";
import { renderSignIn } from "./pages/signin.js";
import { renderPlayground } from "./pages/playground.js";
import { renderKbs } from "./pages/kbs.js";
import { renderKeys } from "./pages/keys.js";
import { renderUsage } from "./pages/usage.js";
import { renderImages } from "./pages/images.js";
import { renderTranslate } from "./pages/translate.js";
import { renderMidjourney } from "./pages/midjourney.js";

const PAGES = {
  playground: { render: renderPlayground },
  kbs: { render: renderKbs },
  keys: { render: renderKeys, admin: true },
  usage: { render: renderUsage },
  images: { render: renderImages },
  translate: { render: renderTranslate },
  midjourney: { render: renderMidjourney },
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const whoami = document.getElementById("whoami");
const signOut = document.getElementById("signout");
let me = null;
let cleanup = null;

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
    renderSignIn(main, onSignedIn);
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

signOut.addEventListener("click", () => {
  clearKey();
  me = null;
  location.hash = "";
  route();
});
window.addEventListener("hashchange", route);

async function start() {
  if (getKey()) {
    try {
      me = await api("/v1/key");
    } catch {
      clearKey();
    }
  }
  route();
}

start();
