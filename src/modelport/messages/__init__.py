"""`POST /v1/messages` (Anthropic's Messages API), served by the chat pipeline."""
