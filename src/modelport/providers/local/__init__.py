"""The embedded llama.cpp engine as a provider."""
