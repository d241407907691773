// Downloads a CSV the API makes, with the session's credentials (a plain link would carry no
// Authorization header), under the file name given.

import { apiError, authHeaders, send } from "../api.js";

export async function downloadCsv(path, filename) {
  const response = await send(path, { headers: authHeaders(), credentials: "same-origin" });
  if (!response.ok) throw await apiError(response);
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
