"""The prebuilt labextension is committed (so `pip install .` of a clone needs no Node.js);
this keeps it honest. ``--write`` records a hash of the build's inputs next to the build;
``--check`` fails when the last commit's build was made from other inputs than the last
commit's sources (rebuild with `make build` and commit clustercraft/labextension);
``current`` says whether the build on disk was made from the sources on disk, so that
`make build` rebuilds only when a source changed.

Byte-for-byte comparison of the bundles is not possible: rspack's module ids differ
between checkouts, so the inputs are hashed instead.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP = "clustercraft/labextension/build-inputs.sha256"
INPUTS = ("src", "style", "schema", "package.json", "package-lock.json", "tsconfig.json")


def is_input(path: str) -> bool:
    return path.startswith(tuple(f"{name}/" for name in INPUTS) + INPUTS) and (
        "__tests__/" not in path
    )


def digest(paths: list[str], read: Callable[[str], bytes]) -> str:
    total = hashlib.sha256()
    for path in sorted(p for p in paths if is_input(p)):
        total.update(path.encode() + b"\0" + hashlib.sha256(read(path)).digest())
    return total.hexdigest()


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def working_tree_digest() -> str:
    tracked = git("ls-files", "--cached", "--others", "--exclude-standard").decode().splitlines()
    present = [p for p in tracked if (ROOT / p).is_file()]
    return digest(present, lambda p: (ROOT / p).read_bytes())


def write() -> None:
    (ROOT / STAMP).write_text(working_tree_digest() + "\n")


def current() -> int:
    """0 when the build on disk was made from the sources on disk (no rebuild needed)."""
    stamp = ROOT / STAMP
    built = stamp.read_text().strip() if stamp.is_file() else ""
    return 0 if built == working_tree_digest() else 1


def check() -> int:
    try:
        committed = git("ls-tree", "-r", "--name-only", "HEAD").decode().splitlines()
    except (OSError, subprocess.CalledProcessError):
        print("labextension stamp: not a git checkout, nothing to check")
        return 0
    if STAMP not in committed:
        print(f"labextension stamp: {STAMP} is not committed; run `make build` and commit it")
        return 1
    expected = digest(committed, lambda p: git("show", f"HEAD:{p}"))
    if git("show", f"HEAD:{STAMP}").decode().strip() != expected:
        print(
            "labextension stamp: the committed clustercraft/labextension was built from other "
            "sources than the committed ones; run `make build` and commit clustercraft/labextension"
        )
        return 1
    print("labextension stamp: the committed build matches the committed sources")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("write", "check", "current"))
    action = parser.parse_args().action
    if action == "write":
        write()
    else:
        sys.exit(check() if action == "check" else current())
