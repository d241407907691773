// One streamed chat completion: calls `onText` with each piece of content as it arrives and
// resolves with how it ended (finish reason, usage, knowledge-base cites).

import { apiError, authHeaders, send, ApiError } from "./api.js";
import { sseEvents } from "./sse.js";

export async function streamChat(body, { signal, onText }) {
  const response = await send("/v1/chat/completions", {
    method: "POST",
    headers: { ...authHeaders(), "Content-Type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
    signal,
  });
  if (!response.ok) throw await apiError(response);
  const result = { finishReason: null, usage: null, cites: [], searchSources: [] };
  for await (const chunk of sseEvents(response)) {
    if (chunk.error) throw new ApiError(response.status, chunk.error.message, chunk.error.code);
    for (const choice of chunk.choices ?? []) {
      if (choice.index !== 0) continue;
      if (choice.delta?.content) onText(choice.delta.content);
      if (choice.finish_reason) result.finishReason = choice.finish_reason;
    }
    if (chunk.usage) result.usage = chunk.usage;
    if (chunk.knowledge_base?.cites) result.cites = chunk.knowledge_base.cites;
    if (chunk.search_sources) result.searchSources = chunk.search_sources;
  }
  return result;
}
