"""OpenAI-compatible upstreams: OpenAI, DeepSeek, Baichuan, Moonshot, vLLM, Ollama, llama.cpp..."""
