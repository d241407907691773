"""Wire types of the public API (OpenAI + Baichuan extensions), one module per resource."""
