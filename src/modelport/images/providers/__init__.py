"""One module per image vendor; `base` holds what they share."""
