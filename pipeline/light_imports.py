"""Import hooks that keep a Curate process from loading code its libraries import but a run never calls.

Each one is described below: torch and transformers under spaCy and Presidio, spaCy's command line, numba's BLAS
probe, the compile check of Presidio's own patterns, and the Hugging Face hub client under datatrove's I/O and
writers. ``CURATE_SPACY_TORCH=1`` turns them all off.

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

spaCy's ``__init__`` imports its whole command line (``spacy.cli``: typer, weasel, requests; 0.2-0.4 s per process)
for one name, ``spacy.info``. While spaCy itself is being imported, ``spacy.cli`` and ``spacy.cli.info`` are given
as deferred modules: ``spacy.info`` is a stand-in that loads the real ``spacy.cli.info`` when called, and the first
use of any other name of either module (``spacy.cli.download``, ``from spacy.cli import app``) runs the real module
in place, so spaCy's command line still works in a Curate process, only later.

numba, when its first compiled function loads, imports ``numba.np.arraymath``, which probes for BLAS by importing
``scipy.linalg`` (0.1 CPU-s per process, about a third of loading numba's cached kernels). Curate's kernels
(n-gram ids, SHA-1 shingles, MinHash minima) use no ``np.dot`` or ``np.linalg``, so that probe is answered "no BLAS"
in a Curate process; SciPy itself stays importable, and the same variable turns this off.

Presidio's ``Pattern`` validates its regex by compiling it when the pattern is made, and its predefined recognizers
make their patterns as class attributes, at import: ``import presidio_analyzer`` compiles 173 regexes (0.22 s of
its 0.38 s; the URL recognizer's list of top-level domains alone 0.18 s), which ``PatternRecognizer`` compiles
again, with its flags, when it first analyzes text. While ``presidio_analyzer.predefined_recognizers`` is imported
that check is skipped for Presidio's own patterns (its test suite validates them, and so does
``tests/test_recipe.py``); a pattern made anywhere else (a recipe's or a user's recognizer) is still checked
when it is made. The same variable turns this off.

datatrove's ``datatrove.io`` imports ``huggingface_hub.HfFileSystem`` at import for one check (is a folder on the
hub?), which loads the hub's whole client (``hf_api``, httpx, httpcore, trio: 0.17-0.23 s per process) in every
process that reads or writes a local file. While ``datatrove.io`` is imported it is given ``LazyHfFileSystem``: an
instance check against it asks the real class only once the real class is loaded (nothing can be an instance of it
before), and calling it or reading its attributes loads the real class. ``huggingface_hub.HfFileSystem`` itself is
untouched, and an ``hf://`` path loads the client as before, through fsspec. For the same reason datatrove's
``datatrove.pipeline.writers.huggingface`` (its Hugging Face writers, imported by ``datatrove.pipeline.writers``,
which every datatrove filter imports) is deferred like spaCy's command line: ``HuggingFaceDatasetWriter`` and
``HuggingFaceBucketWriter`` are handed out as stand-ins that load the real module when called, subclassed, checked
against or read.
"""

from __future__ import annotations

import functools
import importlib.abc
import os
import sys
import types
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


class _WrappingLoader(importlib.abc.Loader):
    """A loader that runs another loader's module code its own way (``exec_module``); creation is unchanged."""

    def __init__(self, loader: importlib.abc.Loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)


class _HidingLoader(_WrappingLoader):
    def __init__(self, loader: importlib.abc.Loader, names: tuple[str, ...]):
        super().__init__(loader)
        self.names = names

    def exec_module(self, module) -> None:
        with hidden(self.names):
            self.loader.exec_module(module)


# module -> (the package whose import defers it, the names it hands out meanwhile as ``_LazyName``s): spaCy's
# command line, which spaCy's __init__ imports for ``spacy.info`` only, and datatrove's Hugging Face writers, which
# ``datatrove.pipeline.writers`` (imported by every datatrove filter) imports with the hub's whole client
DEFERRED: dict[str, tuple[str, tuple[str, ...]]] = {
    "spacy.cli": ("spacy", ()),
    "spacy.cli.info": ("spacy", ()),
    "datatrove.pipeline.writers.huggingface": (
        "datatrove.pipeline.writers",
        ("HuggingFaceBucketWriter", "HuggingFaceDatasetWriter"),
    ),
}


def _initializing(name: str) -> bool:
    """Whether module ``name`` is being imported right now (its ``__init__`` has not finished)."""
    spec = getattr(sys.modules.get(name), "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


class _Deferred(types.ModuleType):
    """A module whose code runs (in place) on first use of a name it does not hold yet."""

    def __getattr__(self, name: str):
        if name.startswith("__") and name.endswith("__"):  # probes of the import system, copy, inspect, ...
            raise AttributeError(name)
        self._load()
        return getattr(self, name)

    def _load(self) -> None:
        loader = self.__dict__.pop("_curate_loader", None)
        self.__class__ = types.ModuleType
        if loader is None:
            return
        if self.__name__ == "spacy.cli":  # its __init__ imports .info: the real one, so its command registers
            info = sys.modules.get("spacy.cli.info")
            if isinstance(info, _Deferred):
                info._load()
        loader.exec_module(self)


class _LazyName:
    """A name of a deferred module; calling it, subclassing it, an instance check or reading an attribute of it
    runs the module and uses the real object."""

    def __init__(self, module: _Deferred, name: str):
        self._curate_module = module
        self._curate_name = name

    def _real(self):
        module = self._curate_module
        if isinstance(module, _Deferred):
            module._load()
        return module.__dict__[self._curate_name]

    def __call__(self, *args, **kwargs):
        return self._real()(*args, **kwargs)

    def __getattr__(self, name: str):
        if name.startswith("_curate_"):  # not set yet (a copy being built): never recurse through _real
            raise AttributeError(name)
        return getattr(self._real(), name)

    def __mro_entries__(self, bases):  # ``class Mine(HuggingFaceDatasetWriter)``: the real class is the base
        return (self._real(),)

    def __instancecheck__(self, obj) -> bool:
        return isinstance(obj, self._real())

    def __subclasscheck__(self, cls) -> bool:
        return issubclass(cls, self._real())

    def __repr__(self) -> str:
        return f"<deferred {self._curate_module.__name__}.{self._curate_name}>"


def _spacy_info(*args, **kwargs):
    """``spacy.info``: loads the real ``spacy.cli.info`` and calls it."""
    module = sys.modules["spacy.cli.info"]
    if isinstance(module, _Deferred):
        module._load()
    return module.info(*args, **kwargs)


class _DeferringLoader(_WrappingLoader):
    def exec_module(self, module) -> None:
        module.__class__ = _Deferred
        module.__dict__["_curate_loader"] = self.loader
        if module.__name__ == "spacy.cli.info":
            module.__dict__["info"] = _spacy_info
        for name in DEFERRED[module.__name__][1]:
            module.__dict__[name] = _LazyName(module, name)


# Presidio's predefined recognizers: their class-level patterns are made without the compile check (docstring)
TRUSTED_PATTERNS = "presidio_analyzer.predefined_recognizers"


def _unchecked(pattern: str) -> None:
    """``Pattern``'s regex check, skipped: Presidio's own pattern, compiled when a recognizer first runs."""


class _TrustedPatternsLoader(_WrappingLoader):
    def exec_module(self, module) -> None:
        from presidio_analyzer.pattern import Pattern  # a leaf module (json, regex): fine mid-import

        name = "_Pattern__validate_regex"
        check = Pattern.__dict__.get(name)
        if check is None:  # a Presidio that no longer checks this way: nothing to skip
            self.loader.exec_module(module)
            return
        setattr(Pattern, name, staticmethod(_unchecked))
        try:
            self.loader.exec_module(module)
        finally:
            setattr(Pattern, name, check)


class _LazyHfFileSystemType(type):
    @staticmethod
    def _real() -> type:
        from huggingface_hub import HfFileSystem

        return HfFileSystem

    @staticmethod
    def _loaded() -> type | None:
        module = sys.modules.get("huggingface_hub.hf_file_system")
        return getattr(module, "HfFileSystem", None)

    def __instancecheck__(cls, obj) -> bool:
        real = cls._loaded()
        return real is not None and isinstance(obj, real)

    def __subclasscheck__(cls, other) -> bool:
        real = cls._loaded()
        return real is not None and issubclass(other, real)

    def __call__(cls, *args, **kwargs):
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str):
        return getattr(cls._real(), name)


class LazyHfFileSystem(metaclass=_LazyHfFileSystemType):
    """``huggingface_hub.HfFileSystem`` as ``datatrove.io`` sees it, loaded on first use (module docstring)."""


# module -> (package it imports a name from, that name, the stand-in it gets while the module is imported)
STAND_INS: dict[str, tuple[str, str, object]] = {"datatrove.io": ("huggingface_hub", "HfFileSystem", LazyHfFileSystem)}


class _StandInLoader(_WrappingLoader):
    def __init__(self, loader: importlib.abc.Loader, target: tuple[str, str, object]):
        super().__init__(loader)
        self.package, self.name, self.stand_in = target

    def exec_module(self, module) -> None:
        package = importlib.import_module(self.package)
        if self.name in package.__dict__:  # already loaded for someone else: nothing to save
            self.loader.exec_module(module)
            return
        package.__dict__[self.name] = self.stand_in
        try:
            self.loader.exec_module(module)
        finally:
            if package.__dict__.get(self.name) is self.stand_in:
                del package.__dict__[self.name]


def _real_spec(finder: importlib.abc.MetaPathFinder, fullname, path, target):
    for other in sys.meta_path:
        if other is finder or not hasattr(other, "find_spec"):
            continue
        spec = other.find_spec(fullname, path, target)
        if spec is not None:
            return spec
    return None


class _ProbeFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname in DEFERRED and _initializing(DEFERRED[fullname][0]):
            wrap = _DeferringLoader
        elif fullname == TRUSTED_PATTERNS:
            wrap = _TrustedPatternsLoader
        elif fullname in STAND_INS:
            wrap = functools.partial(_StandInLoader, target=STAND_INS[fullname])
        else:
            names = PROBES.get(fullname)
            if names is None or all(name in sys.modules for name in names):
                return None
            wrap = functools.partial(_HidingLoader, names=names)
        spec = _real_spec(self, fullname, path, target)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = wrap(spec.loader)
        return spec


_FINDER = _ProbeFinder()


def install() -> None:
    if os.environ.get(ENV_OFF) == "1" or _FINDER in sys.meta_path:
        return
    sys.meta_path.insert(0, _FINDER)
