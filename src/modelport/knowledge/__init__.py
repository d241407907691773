"""Knowledge bases: parse files, chunk them, embed, index and retrieve passages."""
