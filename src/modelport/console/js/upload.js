// Upload one file to /v1/files with XMLHttpRequest, for its upload-progress events.

import { authHeaders, url } from "./api.js";

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
      } else {
        reject(new Error(xhr.response?.error?.message ?? `upload failed (${xhr.status})`));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("upload failed: network error")));
    xhr.addEventListener("abort", () => reject(new Error("upload cancelled")));
    const form = new FormData();
    form.append("purpose", purpose);
    form.append("file", file, file.name);
    xhr.send(form);
  });
}
