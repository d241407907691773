"""OpenAI's Responses API (`POST /v1/responses`) on top of the chat pipeline."""
