"""The embedded llama.cpp engine: continuous batching of all active sequences in one thread."""
