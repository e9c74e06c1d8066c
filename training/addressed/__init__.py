"""The address model (is a sentence addressed to an AI or the reader?): its data and training."""
