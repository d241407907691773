"""Model names → channels: the catalogue and the choice of channel."""
