"""A scorecard to test against: the session's real publication (the `refreshed` fixture) copied
into a data folder of the module's own (so swapping it harms no other test), accounts made with
the real `pathways users` command, and the real server (`pathways serve`) in its own process."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx

from tests.conftest import TEST_KEY, make_settings

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a test password, long enough"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_current(refreshed, root: Path):
    """The refreshed publication, copied into ``root``'s own data folder and made current."""
    settings = make_settings(root)
    source = refreshed.published_dir / os.readlink(refreshed.published_dir / "current")
    settings.published_dir.mkdir(parents=True)
    shutil.copytree(source, settings.published_dir / source.name)
    point_current(settings.published_dir, source.name)
    return settings


def point_current(published: Path, pub_id: str) -> None:
    """Repoint current as publish/ does: one rename of a new link over the old."""
    tmp = published / f".current-{pub_id}"
    if tmp.is_symlink():
        tmp.unlink()
    os.symlink(pub_id, tmp)
    os.replace(tmp, published / "current")


def current_id(settings) -> str:
    return os.readlink(settings.published_dir / "current")


def derive_publication(settings, new_id: str, *, drop: tuple[str, ...] = (), change_gap: tuple[str, str] | None = None,
                       keep_only: tuple[str, ...] | None = None) -> str:
    """A new publication folder made from the current one: files dropped, or one community's
    latest KS2 gap changed to a new value (in its extract and the whole publication)."""
    published = settings.published_dir
    src = published / current_id(settings)
    dst = published / new_id
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["publication_id"] = new_id
    (dst / "manifest.json").write_text(json.dumps(manifest))
    for name in drop:
        (dst / name).unlink()
    if keep_only is not None:
        for p in (dst / "by_learning_community").iterdir():
            if p.stem not in keep_only:
                p.unlink()
        (dst / "pathways.duckdb").unlink()
    if change_gap is not None:
        lc, value = change_gap
        for db in (dst / "pathways.duckdb", dst / "by_learning_community" / f"{lc}.duckdb"):
            with duckdb.connect(str(db)) as con:
                con.execute("""UPDATE learning_community_disadvantage_gaps SET gap = ?
                               WHERE learning_community_code = ? AND measure = 'ks2_rwm_expected' AND time_period =
                                 (SELECT max(time_period) FROM learning_community_disadvantage_gaps
                                  WHERE learning_community_code = ? AND measure = 'ks2_rwm_expected')""", [value, lc, lc])
    for p in dst.rglob("*"):
        if p.is_file():
            p.chmod(0o444)
    return new_id


def env_for(settings, **extra) -> dict[str, str]:
    """The settings for a `pathways` command in another process (its own environment only)."""
    return {**os.environ, "PATHWAYS_DATA_DIR": str(settings.data_dir), "PATHWAYS_WAREHOUSE_PATH": str(settings.warehouse),
            "PATHWAYS_DAGSTER_HOME": str(settings.dagster_home), "PATHWAYS_PSEUDONYMISATION_KEY": TEST_KEY,
            **{k: str(v) for k, v in extra.items()}}


def users(settings, *args: str, password: str | None = None) -> subprocess.CompletedProcess:
    """`pathways users ...` as an administrator runs it."""
    return subprocess.run([sys.executable, "-m", "pathways.cli", "users", *args], input=password, capture_output=True,
                          text=True, env=env_for(settings), cwd=ROOT, timeout=120)


@dataclass
class Server:
    base: str
    process: subprocess.Popen
    settings: object

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def serve(settings, port: int | None = None, **env) -> Server:
    port = port or free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pathways.cli", "serve", "--port", str(port)], cwd=ROOT,
                            env=env_for(settings, **env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the scorecard exited: {proc.stdout.read()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return Server(base, proc, settings)
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the scorecard did not start in 60 s")


def signed_in(base: str, username: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client with a signed-in session, having used the sign-in form as a browser does."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    form = client.get("/sign-in")
    token = re.search(r'name="form_token" value="([^"]+)"', form.text).group(1)
    r = client.post("/sign-in", data={"form_token": token, "username": username, "password": password, "next": "/"})
    assert r.status_code == 303, r.text[:500]
    return client


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
