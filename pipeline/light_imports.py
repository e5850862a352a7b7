"""Keep spaCy and Presidio from importing torch and transformers, and numba from importing SciPy's linear algebra.

spaCy's numeric library (thinc) probes for torch when it is imported (``thinc.compat``: ``import torch``), and
Presidio's analyzer imports transformers and torch for NLP engines and recognizers Curate never builds
(``huggingface_token_pipe``, ``huggingface_ner_recognizer``). Both are optional there (``except ImportError``), but
when torch and transformers are installed (the ``hf`` extra) they are imported: several CPU-seconds per process
(measured: ``import spacy, presidio_analyzer, presidio_anonymizer`` 6.6 s of CPU, 1.5 s with the two hidden), paid
by every task of every run, for code that is never called. Curate uses spaCy only for its rule-based tokenizer and,
for PII NER, CNN pipelines (``en_core_web_sm``) that run on thinc's numpy ops.

``install()`` (run when the ``pipeline`` package is imported) adds an import hook that loads thinc, spaCy and
Presidio (and what they import while they load) with torch / transformers hidden, and only when they are not imported yet; they stay importable
for everything else (``hf_classifier`` imports transformers and torch as usual). Set ``CURATE_SPACY_TORCH=1`` to
turn the hook off, e.g. to run a spaCy pipeline with a torch component (``en_core_web_trf``) in a Curate process.

numba, when its first compiled function loads, imports ``numba.np.arraymath``, which probes for BLAS by importing
``scipy.linalg`` (0.1 CPU-s per process, about a third of loading numba's cached kernels). Curate's kernels
(n-gram ids, SHA-1 shingles, MinHash minima) use no ``np.dot`` or ``np.linalg``, so that probe is answered "no BLAS"
in a Curate process; SciPy itself stays importable, and the same variable turns this off.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# module whose import probes optional heavy libraries -> the libraries hidden while that module executes
PROBES: dict[str, tuple[str, ...]] = {
    "thinc": ("torch",),
    "spacy": ("torch",),
    "presidio_analyzer": ("torch", "transformers"),
    "presidio_anonymizer": ("torch", "transformers"),
    "numba.np.arraymath": ("scipy.linalg",),  # its BLAS probe; Curate's kernels do no linear algebra
}
ENV_OFF = "CURATE_SPACY_TORCH"


@contextmanager
def hidden(names: tuple[str, ...]) -> Iterator[None]:
    """Make ``import name`` raise ImportError for each of ``names`` not imported yet, inside the block."""
    hide = [name for name in names if name not in sys.modules]
    for name in hide:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "not importable" mark
    try:
        yield
    finally:
        for name in hide:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


class _HidingLoader(importlib.abc.Loader):
    def __init__(self, loader: importlib.abc.Loader, names: tuple[str, ...]):
        self.loader = loader
        self.names = names

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        with hidden(self.names):
            self.loader.exec_module(module)


class _ProbeFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        names = PROBES.get(fullname)
        if names is None or all(name in sys.modules for name in names):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HidingLoader(spec.loader, names)
                return spec
        return None


_FINDER = _ProbeFinder()


def install() -> None:
    if os.environ.get(ENV_OFF) == "1" or _FINDER in sys.meta_path:
        return
    sys.meta_path.insert(0, _FINDER)
