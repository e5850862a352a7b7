"""Token counting: the ``token_count`` stage and tokenizer loading (GPT-2 shipped offline, any tokenizer.json)."""
