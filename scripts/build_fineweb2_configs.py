"""Pack FineWeb-2's 1,929 per-language filter configs into one compressed JSON shipped with Curate.

Reads ``../shared/data/fineweb2/configs/<lang>_<Script>.yml`` (huggingface/fineweb-2 at d0defb24, Apache-2.0) and
writes ``pipeline/data/fineweb2/configs.json.gz``: ``{"<lang>_<Script>": {<the YAML's keys and values>}}``, every
value as in the YAML (floats round-trip exactly through JSON). Deterministic (sorted keys, gzip mtime 0).

    python scripts/build_fineweb2_configs.py [--source ../shared/data/fineweb2/configs]
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path

import yaml

from pipeline.resources import data_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="../shared/data/fineweb2/configs")
    parser.add_argument("--output", default=str(data_path("fineweb2", "configs.json.gz")))
    args = parser.parse_args()
    configs = {}
    for path in sorted(Path(args.source).glob("*.yml")):
        with open(path, encoding="utf-8") as f:
            configs[path.stem] = yaml.safe_load(f)
    payload = json.dumps(configs, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(payload)
    print(f"{len(configs)} configs -> {args.output} ({Path(args.output).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
