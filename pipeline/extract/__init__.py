"""HTML to text for ``warc`` sources: the extractor libraries (``extractors.py``), the per-page time limit
(``timeout.py``) and the pipeline step that runs them and drops what cannot become text (``step.py``)."""
