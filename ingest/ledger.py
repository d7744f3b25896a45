"""The intake log: one line per file taken from the inbox and what became of it.

``<data_dir>/intake_log.jsonl``, appended as each file meets its fate (loaded, duplicate,
quarantined, held, confirmed), so ``pathways status`` can account for every file that has left
the inbox without opening the warehouse (which a running refresh holds). It names files, upload
ids, sources, rules and row counts; never a value from a file (values stay in the quarantine
reports beside the files).
"""

from __future__ import annotations

import json
import os
from collections import deque
from datetime import datetime
from pathlib import Path

from config.settings import Settings


def record(settings: Settings, **entry) -> None:
    entry = {"at": datetime.now().astimezone().isoformat(timespec="seconds"), **entry}
    path = settings.intake_log
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, default=str) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())  # one write per line: appends from two processes never interleave
    finally:
        os.close(fd)


def entries(settings: Settings, last: int | None = None, since: str | None = None) -> list[dict]:
    """The newest ``last`` entries (all when None), oldest first; only those at or after ``since``."""
    path: Path = settings.intake_log
    if not path.exists():
        return []
    with open(path) as f:
        lines = deque(f, maxlen=last) if last else list(f)
    out = []
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash mid-write
        if since is None or e.get("at", "") >= since:
            out.append(e)
    return out
