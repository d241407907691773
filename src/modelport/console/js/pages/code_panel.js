// "View code": the playground's current request as a curl command and a Python `openai` call.

import { url } from "../api.js";
import { h } from "../dom.js";
import { copyButton } from "../copy.js";
import { t } from "../i18n.js";

function shellQuote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

export function curlSnippet(body) {
  const json = JSON.stringify({ ...body, stream: true }, null, 2);
  return [
    `curl ${url("/v1/chat/completions")} \\`,
    `  -H "Authorization: Bearer $OPENAI_API_KEY" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d ${shellQuote(json)}`,
  ].join("\n");
}

export function pythonSnippet(body) {
  const { model, messages, temperature, top_p, max_tokens, ...extra } = body;
  const indent = (text) => text.replaceAll("\n", "\n    ");
  const lines = [
    "import os",
    "",
    "from openai import OpenAI",
    "",
    `client = OpenAI(base_url=${JSON.stringify(url("/v1"))}, api_key=os.environ["OPENAI_API_KEY"])`,
    "stream = client.chat.completions.create(",
    `    model=${JSON.stringify(model)},`,
    `    messages=${indent(JSON.stringify(messages, null, 4))},`,
  ];
  if (temperature !== undefined) lines.push(`    temperature=${temperature},`);
  if (top_p !== undefined) lines.push(`    top_p=${top_p},`);
  if (max_tokens !== undefined) lines.push(`    max_tokens=${max_tokens},`);
  if (Object.keys(extra).length) lines.push(`    extra_body=${indent(JSON.stringify(extra, null, 4))},`);
  lines.push(
    "    stream=True,",
    ")",
    "for chunk in stream:",
    "    if chunk.choices:",
    '        print(chunk.choices[0].delta.content or "", end="", flush=True)',
    "print()",
  );
  return lines.join("\n");
}

// A collapsible panel; call `update(body)` whenever the request changes.
export function codePanel() {
  let body = null;
  let tab = "curl";
  const code = h("pre", { class: "code", "data-testid": "code" });
  const tabs = h("div", { class: "tabs", role: "tablist" });
  const text = () => (tab === "curl" ? curlSnippet(body) : pythonSnippet(body));
  const draw = () => {
    if (!body) return;
    code.textContent = text();
    for (const button of tabs.children) button.classList.toggle("active", button.dataset.tab === tab);
  };
  for (const [name, label] of [["curl", "curl"], ["python", t("code.python")]]) {
    tabs.append(
      h("button", { type: "button", role: "tab", dataset: { tab: name }, "data-testid": `code-tab-${name}`,
        onclick: () => { tab = name; draw(); } }, label),
    );
  }
  const panel = h(
    "details",
    { class: "card code-panel", "data-testid": "view-code" },
    h("summary", {}, t("code.view")),
    h("div", { class: "code-bar" }, tabs, copyButton(text, t("code.copy"))),
    code,
  );
  panel.update = (next) => {
    body = next;
    draw();
  };
  return panel;
}
