// Upload one file to /v1/files with XMLHttpRequest, for its upload-progress events.

import { ApiError, authHeaders, notifyUnauthorized, url } from "./api.js";
import { t } from "./i18n.js";

export function uploadFile(file, { purpose = "knowledge-base", onProgress } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url("/v1/files"));
    for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress?.(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(xhr.response);
        return;
      }
      const body = xhr.response?.error;
      const error = new ApiError(xhr.status, body?.message ?? t("upload.failed", { status: xhr.status }), body?.code ?? null);
      notifyUnauthorized(error);
      reject(error);
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, t("error.network"), "network")));
    xhr.addEventListener("abort", () => reject(new Error(t("upload.cancelled"))));
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
