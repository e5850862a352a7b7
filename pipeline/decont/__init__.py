"""Benchmark decontamination: the ``decontaminate`` stage and its n-gram index (built once per run)."""
