"""modelport: an OpenAI- and Baichuan-compatible LLM API platform."""

__version__ = "0.1.0"
