// Midjourney tasks over the midjourney-proxy protocol: imagine a prompt, watch the caller's
// tasks (polled every 2 s while any is unfinished), and press a finished task's buttons
// (U1..U4, V1..V4, 🔄 …) to submit an action.

import { ApiError, authHeaders, send as post } from "../api.js";
import { errorLine, field, formatTime, h, replace } from "../dom.js";
import { t } from "../i18n.js";

const POLL_MS = 2000;
const DONE = new Set(["SUCCESS", "FAILURE", "CANCEL"]);
// The submit answer's codes that mean "taken": submitted, already there, queued.
const ACCEPTED = { 1: "mj.submitted", 21: "mj.already", 22: "mj.queued" };
const BADGE = { SUCCESS: "online", FAILURE: "fail", CANCEL: "fail", IN_PROGRESS: "init", SUBMITTED: "init", MODAL: "init" };

// A POST in the protocol: its errors carry `description` (not OpenAI's `error.message`).
async function mj(path, body) {
  const response = await post(path, {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    // not JSON: the status line says it
  }
  if (!response.ok) {
    const message = answer?.description ?? answer?.error?.message ?? `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message, answer?.code ?? null);
  }
  return answer;
}

// A submit answer as a message, or an error carrying the proxy's description.
export function submitOutcome(answer) {
  const taken = ACCEPTED[answer?.code];
  if (!taken) throw new Error(answer?.description || t("mj.refused", { code: answer?.code ?? "?" }));
  const note = answer.description && answer.code !== 1 ? ` (${answer.description})` : "";
  return t("mj.outcome", { state: t(taken), task: String(answer.result) }) + note;
}

function percent(progress) {
  const value = Number.parseInt(String(progress ?? "0"), 10);
  return Number.isFinite(value) ? Math.min(100, Math.max(0, value)) : 0;
}

function when(ms) {
  return ms ? formatTime(new Date(ms).toISOString()) : "—";
}

export function renderMidjourney(main) {
  let stopped = false;
  let timer = null;
  let busy = false;
  const shown = new Map(); // task id → { json, node }

  const prompt = h("textarea", {
    name: "prompt", rows: 3, required: true, placeholder: t("mj.prompt_placeholder"),
    "data-testid": "mj-prompt",
  });
  const bot = h("select", { name: "botType", "data-testid": "mj-bot" },
    h("option", { value: "MID_JOURNEY" }, "Midjourney"), h("option", { value: "NIJI_JOURNEY" }, t("mj.niji")));
  const submit = h("button", { type: "submit", "data-testid": "mj-submit" }, t("mj.imagine"));
  const notice = h("p", { class: "muted", "data-testid": "mj-notice", "aria-live": "polite" });
  const error = errorLine();
  const listError = errorLine();
  const list = h("div", { class: "mj-tasks", "data-testid": "mj-tasks" }, h("p", { class: "muted" }, t("common.loading")));

  async function send(path, body) {
    error.show(null);
    notice.textContent = t("mj.submitting");
    try {
      notice.textContent = submitOutcome(await mj(path, body));
      return true;
    } catch (err) {
      notice.textContent = "";
      error.show(err);
      return false;
    } finally {
      refresh();
    }
  }

  async function onSubmit(event) {
    event.preventDefault();
    if (busy || !prompt.value.trim()) return;
    busy = submit.disabled = true;
    if (await send("/mj/submit/imagine", { prompt: prompt.value.trim(), botType: bot.value })) prompt.value = "";
    busy = submit.disabled = false;
  }

  function taskNode(task) {
    const status = task.status ?? "NOT_START";
    const finished = DONE.has(status);
    const buttons = status === "SUCCESS" ? (task.buttons ?? []) : [];
    return h("article", { class: "card mj-task", "data-testid": "mj-task", dataset: { id: task.id, status } },
      h("div", { class: "row" },
        h("strong", {}, task.action ?? "IMAGINE"),
        h("span", { class: `badge ${BADGE[status] ?? ""}`, "data-testid": "mj-status", title: t(`mj.status.${status}`) }, status),
        h("span", { class: "muted small" }, `${task.id} · ${when(task.submitTime)}`)),
      h("p", { class: "wrap" }, task.prompt ?? task.description ?? ""),
      finished ? null : h("div", { class: "row" },
        h("progress", { max: 100, value: percent(task.progress), "data-testid": "mj-progress" }),
        h("span", { class: "small" }, task.progress || "0%")),
      status === "SUCCESS" && task.imageUrl
        ? h("a", { href: task.imageUrl, target: "_blank", rel: "noopener" },
            h("img", { class: "mj-image", src: task.imageUrl, alt: task.prompt ?? "", "data-testid": "mj-image" }))
        : null,
      status === "FAILURE" || status === "CANCEL"
        ? h("p", { class: "error", "data-testid": "mj-fail" }, task.failReason || task.description || status)
        : null,
      buttons.length ? h("div", { class: "row mj-buttons" }, buttons.map((b) =>
        h("button", {
          type: "button", class: "secondary", "data-testid": "mj-action", dataset: { customId: b.customId },
          onclick: async (event) => {
            const button = event.currentTarget;
            button.disabled = true; // one press, one submission
            await send("/mj/submit/action", { customId: b.customId, taskId: task.id });
            button.disabled = false;
          },
        }, [b.emoji, b.label].filter(Boolean).join(" ") || b.customId))) : null,
    );
  }

  function show(tasks) {
    if (!tasks.length) {
      shown.clear();
      replace(list, h("p", { class: "muted" }, t("mj.none")));
      return;
    }
    const nodes = tasks.map((task) => {
      const json = JSON.stringify(task);
      const old = shown.get(task.id);
      if (old && old.json === json) return old.node; // unchanged: keep it (and its image)
      const node = taskNode(task);
      shown.set(task.id, { json, node });
      return node;
    });
    const ids = new Set(tasks.map((t) => t.id));
    for (const id of shown.keys()) if (!ids.has(id)) shown.delete(id);
    list.querySelector(":scope > p")?.remove();
    nodes.forEach((node, i) => {
      if (list.children[i] !== node) list.insertBefore(node, list.children[i] ?? null);
    });
    while (list.children.length > nodes.length) list.lastElementChild.remove();
  }

  async function refresh() {
    clearTimeout(timer);
    timer = null;
    if (stopped) return;
    let tasks = null;
    try {
      tasks = await mj("/mj/task/list-by-condition", {});
      if (stopped) return;
      listError.show(null);
      show(Array.isArray(tasks) ? tasks : []);
    } catch (err) {
      if (stopped) return;
      listError.show(err);
    }
    const waiting = Array.isArray(tasks) && tasks.some((t) => !DONE.has(t.status));
    if (waiting && !stopped && timer === null) timer = setTimeout(refresh, POLL_MS);
  }

  const form = h("form", { class: "card" },
    field(t("mj.prompt"), prompt), field(t("mj.bot"), bot), h("div", { class: "row" }, submit), notice, error);
  form.addEventListener("submit", onSubmit);

  replace(main, h("h1", {}, t("nav.midjourney")), form,
    h("section", {}, h("h2", {}, t("mj.tasks")), listError, list));
  refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
