"""Detection: Presidio's analyzer built offline, and its exact windowed recognizers.

A subpackage so that the stage registry, which imports every module of ``pipeline.pii``, does not import Presidio
(and spaCy, which Presidio imports) until a recipe actually uses the ``pii`` stage.
"""
