// Copy text to the clipboard, with a fallback for pages that are not a secure context.

import { t } from "./i18n.js";

export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  document.execCommand("copy");
  area.remove();
}

// A button that copies `getText()` and says so for a moment.
export function copyButton(getText, label = t("copy.copy"), attrs = {}) {
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  for (const [name, value] of Object.entries(attrs)) button.setAttribute(name, value);
  button.addEventListener("click", async () => {
    try {
      await copyText(getText());
      button.textContent = t("copy.copied");
    } catch {
      button.textContent = t("copy.failed");
    }
    setTimeout(() => (button.textContent = label), 1500);
  });
  return button;
}
