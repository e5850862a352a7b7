"""Quality classifiers: train, evaluate and score (fastText DCLM-style; Hugging Face models by path)."""
