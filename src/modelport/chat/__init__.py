"""The chat service: a validated request in, a completion or an SSE byte stream out."""
