"""`/v1/translate`'s work: a batch through DeepL, or a chat model with a translation prompt."""
