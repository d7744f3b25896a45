"""The immutable, content-addressed archive: every upload ever received, kept as it came.

A file is stored once as ``archive/<sha256>.<ext>``, read-only, and never overwritten or
deleted; the same content arriving twice is the same archived file.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_file(path: Path, archive_dir: Path) -> tuple[str, Path]:
    """Copy ``path`` into the archive (once) and return its sha256 and archived path."""
    sha = sha256_file(path)
    archive_dir.mkdir(parents=True, exist_ok=True)
    target = archive_dir / f"{sha}{path.suffix.lower()}"
    if not target.exists():
        tmp = archive_dir / f".{sha}.partial"
        shutil.copyfile(path, tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o444)
        os.replace(tmp, target)  # atomic: the archive never holds half a file
    return sha, target
