"""The scorecard's page response times with 50 signed-in users (``make bench-web``): printed,
never asserted.

Runs the real server (``pathways serve``, one process) on the current demo publication, with
its own throwaway accounts (in a temporary data folder whose ``published/`` is the demo's), and
50 simulated users, each with their own session: 40 group members spread over the communities and
10 authority analysts. Each user opens a page, reads it for a while (think time), opens the next:

1. **first views**: every page type of every community opened once after start-up (the server
   builds a page's content once per publication, then serves it from memory);
2. **50 users browsing** (think time 0.5-1.5 s, about 50 pages a second): the headline figures;
3. **50 users without pause** (each opens the next page as soon as the last arrives): the
   saturation throughput and the latency it costs.

Latency is measured at the client, from sending the request to the last byte of the page.
``BENCH_WEB_SECONDS`` (default 30) sets each timed phase's length, ``BENCH_WEB_USERS`` the users.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from config.settings import PROJECT_ROOT, get_settings

PAGES = ["", "/gaps", "/cohorts", "/schools", "/attendance", "/downloads"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


class User:
    """One person's session. Pages are fetched over one kept-alive connection by a minimal HTTP/1.1
    client, so the load generator (on the same machine) takes little of the CPU it measures."""

    def __init__(self, base: str, username: str, password: str, communities: list[str], analyst: bool):
        self.base, self.username, self.password = base, username, password
        self.communities, self.analyst = communities, analyst
        self.client = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
        self.host, self.port = base.split("//")[1].split(":")
        self.cookie = ""
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def sign_in(self) -> None:
        r = await self.client.get("/sign-in")
        token = re.search(r'name="form_token" value="([^"]+)"', r.text).group(1)
        r = await self.client.post("/sign-in", data={"form_token": token, "username": self.username,
                                                     "password": self.password, "next": "/"})
        if r.status_code != 303:
            raise RuntimeError(f"sign-in failed for {self.username}: {r.status_code}")
        self.cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())

    def next_page(self, rng: random.Random, measures: list[str]) -> tuple[str, str]:
        if self.analyst and rng.random() < 0.4:
            if rng.random() < 0.6:
                return "compare", f"/compare?measure={rng.choice(measures)}"
            return "borough", "/borough"
        if rng.random() < 0.08:
            return "home", "/"
        suffix = rng.choice(PAGES)
        return ("overview" if not suffix else suffix[1:]), f"/communities/{rng.choice(self.communities)}{suffix}"

    async def get(self, path: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        if self._conn is None:
            self._conn = await asyncio.open_connection(self.host, int(self.port))
        reader, writer = self._conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n\r\n".encode())
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return time.perf_counter() - t0, status

    async def close(self) -> None:
        await self.client.aclose()
        if self._conn:
            self._conn[1].close()


async def _browse(users: list[User], seconds: float, think: tuple[float, float] | None, measures: list[str],
                  seed: int) -> tuple[dict[str, list[float]], int, int]:
    times: dict[str, list[float]] = {}
    errors = 0
    count = 0
    end = time.perf_counter() + seconds

    async def one(user: User, rng: random.Random):
        nonlocal errors, count
        if think:
            await asyncio.sleep(rng.uniform(0, think[1]))  # users do not all start at once
        while time.perf_counter() < end:
            kind, path = user.next_page(rng, measures)
            took, status = await user.get(path)
            count += 1
            if status != 200:
                errors += 1
            times.setdefault(kind, []).append(took)
            if think:
                await asyncio.sleep(rng.uniform(*think))

    await asyncio.gather(*(one(u, random.Random(seed + i)) for i, u in enumerate(users)))
    return times, count, errors


def _report(title: str, times: dict[str, list[float]], count: int, errors: int, seconds: float) -> dict:
    allt = [t for v in times.values() for t in v]
    print(f"\n{title}")
    print(f"  {'page':<12} {'requests':>8} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for kind in sorted(times):
        v = times[kind]
        print(f"  {kind:<12} {len(v):>8} {statistics.median(v) * 1000:>10.1f} {_pct(v, 0.95) * 1000:>8.1f} {max(v) * 1000:>8.1f}")
    result = {"requests": count, "errors": errors, "pages_per_second": round(count / seconds, 1),
              "median_ms": round(statistics.median(allt) * 1000, 1) if allt else None,
              "p95_ms": round(_pct(allt, 0.95) * 1000, 1) if allt else None,
              "max_ms": round(max(allt) * 1000, 1) if allt else None,
              "by_page": {k: {"requests": len(v), "median_ms": round(statistics.median(v) * 1000, 1),
                              "p95_ms": round(_pct(v, 0.95) * 1000, 1)} for k, v in times.items()}}
    print(f"  {'all pages':<12} {count:>8} {result['median_ms']:>10} {result['p95_ms']:>8} {result['max_ms']:>8}"
          f"   ({result['pages_per_second']} pages/s, {errors} errors)")
    return result


async def _run(base: str, accounts: list[tuple[str, str, list[str], bool]], communities: list[str], seconds: float) -> dict:
    users = [User(base, u, p, c, a) for u, p, c, a in accounts]
    t0 = time.perf_counter()
    for i in range(0, len(users), 5):  # Argon2 per sign-in: a few at a time, as people arrive
        await asyncio.gather(*(u.sign_in() for u in users[i:i + 5]))
    print(f"  {len(users)} users signed in ({time.perf_counter() - t0:.1f} s)")
    analyst = next(u for u in users if u.analyst)
    page = (await analyst.client.get("/compare")).text
    measures = re.findall(r'<option value="([a-z0-9_]+)"', page.split('id="measure"', 1)[1].split("</select>", 1)[0])
    first: dict[str, list[float]] = {}
    for lc in communities:
        for suffix in PAGES:
            took, _ = await analyst.get(f"/communities/{lc}{suffix}")
            first.setdefault("overview" if not suffix else suffix[1:], []).append(took)
    for path, kind in (("/compare", "compare"), ("/borough", "borough"), ("/", "home")):
        took, _ = await analyst.get(path)
        first.setdefault(kind, []).append(took)
    results = {"first_views": _report("First view of each page after start-up (content built once per publication):",
                                      first, sum(map(len, first.values())), 0, 1)}
    times, count, errors = await _browse(users, seconds, (0.5, 1.5), measures, 1)
    results["browsing"] = _report(f"{len(users)} signed-in users browsing (think time 0.5-1.5 s), {seconds:.0f} s:",
                                  times, count, errors, seconds)
    times, count, errors = await _browse(users, seconds, None, measures, 2)
    results["no_pause"] = _report(f"{len(users)} signed-in users without pause (saturation), {seconds:.0f} s:",
                                  times, count, errors, seconds)
    for u in users:
        await u.close()
    return results


def main() -> int:
    settings = get_settings()
    from scorecard.publication import NoPublication, Publications

    try:
        pub = Publications(settings.published_dir).current()
    except NoPublication:
        print("No publication: run `make demo` first.", file=sys.stderr)
        return 1
    n_users = int(os.environ.get("BENCH_WEB_USERS", "50"))
    seconds = float(os.environ.get("BENCH_WEB_SECONDS", "30"))
    communities = list(pub.community_codes)
    tmp = Path(tempfile.mkdtemp(prefix="pathways-bench-web-"))
    server = None
    try:
        (tmp / "published").symlink_to(settings.published_dir.resolve(), target_is_directory=True)
        from scorecard.accounts import Accounts

        store = Accounts(tmp / "access" / "accounts.sqlite")
        accounts = []
        n_analysts = max(1, n_users // 5)
        for i in range(n_users):
            password = secrets.token_urlsafe(16)
            if i < n_analysts:
                store.add(f"analyst{i}@bench.invalid", f"Analyst {i}", "analyst", [], password)
                accounts.append((f"analyst{i}@bench.invalid", password, communities, True))
            else:
                lc = communities[i % len(communities)]
                store.add(f"member{i}@bench.invalid", f"Member {i}", "member", [lc], password)
                accounts.append((f"member{i}@bench.invalid", password, [lc], False))
        port = _free_port()
        env = {**os.environ, "PATHWAYS_DATA_DIR": str(tmp), "PATHWAYS_SCORECARD_PORT": str(port),
               "PATHWAYS_SCORECARD_SIGN_IN_ATTEMPTS": "1000"}
        server = subprocess.Popen([sys.executable, "-m", "pathways.cli", "serve"], env=env, cwd=PROJECT_ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the scorecard did not start: " + server.stderr.read().decode()[-2000:])
        print(f"Scorecard benchmark: publication {pub.id}, {len(communities)} communities, "
              f"{n_users} users ({n_analysts} analysts), {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        results = asyncio.run(_run(base, accounts, communities, seconds))
        results.update(publication=pub.id, users=n_users, seconds=seconds, cpus=os.cpu_count(),
                       at=time.strftime("%Y-%m-%dT%H:%M:%S"))
        out = settings.data_dir / "bench" / "web.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(f"\nResults also in {out}")
        return 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
