"""Tokens: the ``token_count`` stage, tokenizer loading, and the training-token output (``output.tokens``, ``mixture``)."""
