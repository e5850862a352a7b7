"""Language names: FineWeb-2's ``<iso639-3>_<Script>`` codes and the language-ID model's labels, mapped both ways.

FineWeb-2 names a language by ISO 639-3 code and script (``cmn_Hani``, ``deu_Latn``): that is how its per-language
configs are keyed and what its pipeline passes to datatrove as ``language=``. Curate's default language-ID model
(fastText ``lid.176``) labels documents with ISO 639-1 codes where there is one (``zh``, ``de``) and ISO 639-3
otherwise (``arz``, ``ceb``); GlotLID writes ``cmn`` and the script ``Hani`` apart. This module maps any of these to
the FineWeb-2 code with datatrove's own table (``tokenizer_assignment.csv``: the default language for an ISO 639-1
code and the default script for a language), so ``zh``, ``cmn`` and ``cmn_Hani`` are the same language, and back
from a FineWeb-2 code to the lid.176 label. A handful of lid.176 labels are not ISO codes of the same language
(``als`` is Alemannic there, Tosk Albanian in ISO 639-3; ``no``, ``sh``, ``tl``, ``bh`` are macro or retired
codes): they are mapped by hand.

The filters tokenize with the FineWeb-2 code's tokenizer whatever name the recipe used: datatrove's own table
gives several two-letter labels (``zh``, ``ar``, ``az``, ``tt``, ...) its fallback ``xx`` tokenizer (its loader
reads the column ``default_code_1`` as a string, and ``"FALSE"`` is true), so ``language: zh`` in Curate is
datatrove's ``language="cmn_Hani"`` (jieba), not its ``language="zh"``.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from functools import lru_cache
from typing import Any

from datatrove.utils._import_utils import ASSETS_PATH

from pipeline.resources import data_path

AUTO = "auto"

# lid.176 labels that are not the ISO 639 code of the language FineWeb-2 files them under
_LID_OVERRIDES = {"als": "gsw_Latn", "no": "nob_Latn", "sh": "hbs_Latn", "tl": "fil_Latn", "bh": "bho_Deva"}


@lru_cache(maxsize=1)
def _tokenizer_table() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(ISO 639-1 -> code_Script, ISO 639-3 -> code_Script, code_Script -> ISO 639-1) from datatrove's table."""
    by_code_1: dict[str, str] = {}
    by_code_3: dict[str, str] = {}
    to_code_1: dict[str, str] = {}
    with open(os.path.join(ASSETS_PATH, "tokenizer_assignment.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code_3, code_1, script = row["code_3"], row["code_1"], row["script"]
            name = f"{code_3}_{script}"
            default_script = row["default_script"] == "TRUE"
            if default_script:
                by_code_3.setdefault(code_3, name)
            if code_1 and row["default_code_1"] == "TRUE":
                to_code_1.setdefault(name, code_1)
                if default_script:
                    by_code_1.setdefault(code_1, name)
    return by_code_1, by_code_3, to_code_1


def resolve_language(name: str) -> str:
    """The FineWeb-2 code (``cmn_Hani``) for a FineWeb-2 code, an ISO 639-1/3 code or a lid.176 label.

    A name that is none of these is returned unchanged (datatrove then says it has no tokenizer for it).
    """
    if "_" in name:
        return name
    if name in _LID_OVERRIDES:
        return _LID_OVERRIDES[name]
    by_code_1, by_code_3, _ = _tokenizer_table()
    return by_code_1.get(name) or by_code_3.get(name) or name


def lid_label(code: str) -> str:
    """The lid.176 label of a FineWeb-2 code (``cmn_Hani`` -> ``zh``; ``arz_Arab`` -> ``arz``)."""
    for label, target in _LID_OVERRIDES.items():
        if target == code:
            return label
    _, _, to_code_1 = _tokenizer_table()
    return to_code_1.get(code) or code.split("_")[0]


def document_language(metadata: dict[str, Any]) -> str | None:
    """The FineWeb-2 code of the language ``language_filter`` wrote on a document, or None if it wrote none."""
    language = metadata.get("language")
    if not language or not isinstance(language, str):
        return None
    script = metadata.get("language_script")
    if script and isinstance(script, str) and "_" not in language:
        return f"{language}_{script}"
    return resolve_language(language)


@lru_cache(maxsize=1)
def fineweb2_configs() -> dict[str, dict[str, Any]]:
    """FineWeb-2's published per-language filter configs (``data/fineweb2/configs.json.gz``), by FineWeb-2 code."""
    with gzip.open(data_path("fineweb2", "configs.json.gz"), "rt", encoding="utf-8") as f:
        return json.load(f)
