// The request log's filters: a form whose `params()` are the API's query parameters.

import { field, h } from "../dom.js";
import { t } from "../i18n.js";

// datetime-local's wall time in the viewer's zone → an instant the API reads unambiguously.
function instant(value) {
  return value ? new Date(value).toISOString() : null;
}

export function logFilters({ admin, onApply }) {
  const inputs = {
    since: h("input", { type: "datetime-local", "data-testid": "filter-since" }),
    until: h("input", { type: "datetime-local", "data-testid": "filter-until" }),
    user_id: h("input", { placeholder: "usr_…", "data-testid": "filter-user" }),
    key_id: h("input", { placeholder: "key_…", "data-testid": "filter-key" }),
    model: h("input", { "data-testid": "filter-model" }),
    channel: h("input", { placeholder: "ch_…", "data-testid": "filter-channel" }),
    status: h("select", { "data-testid": "filter-status" },
      h("option", { value: "" }, t("logs.anyStatus")), h("option", { value: "ok" }, t("logs.statusOk")),
      h("option", { value: "error" }, t("logs.statusError")),
      ["400", "401", "429", "500", "502", "503"].map((code) => h("option", { value: code }, code))),
    stream: h("select", { "data-testid": "filter-stream" },
      h("option", { value: "" }, t("logs.anyStream")), h("option", { value: "true" }, t("logs.streamed")),
      h("option", { value: "false" }, t("logs.notStreamed"))),
  };
  const form = h("form", { class: "card filters", "data-testid": "log-filters" },
    h("div", { class: "grid3" },
      field(t("logs.since"), inputs.since), field(t("logs.until"), inputs.until),
      admin ? field(t("logs.user"), inputs.user_id) : null, field(t("logs.keyId"), inputs.key_id),
      field(t("logs.model"), inputs.model), field(t("logs.channel"), inputs.channel),
      field(t("logs.status"), inputs.status), field(t("logs.stream"), inputs.stream)),
    h("div", { class: "row" },
      h("button", { type: "submit", "data-testid": "log-apply" }, t("logs.apply")),
      h("button", { type: "reset", class: "secondary", "data-testid": "log-clear" }, t("logs.clear"))));

  form.params = () => {
    const params = new URLSearchParams();
    const values = {
      since: instant(inputs.since.value), until: instant(inputs.until.value),
      user_id: admin ? inputs.user_id.value.trim() : "", key_id: inputs.key_id.value.trim(),
      model: inputs.model.value.trim(), channel: inputs.channel.value.trim(),
      status: inputs.status.value, stream: inputs.stream.value,
    };
    for (const [name, value] of Object.entries(values)) if (value) params.set(name, value);
    return params;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onApply();
  });
  form.addEventListener("reset", () => setTimeout(onApply));
  return form;
}
