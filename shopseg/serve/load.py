"""A small, bounded load test of the customer endpoint (docs/benchmarks.md, "Serving").

    python -m shopseg.serve.load [--requests 3000] [--concurrency 1 4] [--url http://127.0.0.1:8000]

Without --url it starts the HTTP API itself (`python -m shopseg.serve.api`, same settings: the
serving login role, docs/serving.md) on a free loopback port and stops it afterwards. Only loopback
addresses are accepted. Customer ids are a fixed sample of the mart (read through the same role);
each run sends exactly --requests GET /api/mcp/customer/{id} after --warmup requests, with
--concurrency requests in flight, and reports p50 / p90 / p99 / max latency and requests per second.
It also shows the PostgreSQL plan of the lookup and times the same statement without HTTP.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import psycopg

from shopseg.serve.queries import Queries
from shopseg.serve.settings import ServeSettings

MAX_REQUESTS = 100_000
MAX_CONCURRENCY = 64


def loopback_only(url: str) -> str:
    host = urlsplit(url).hostname or ""
    try:
        ok = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise SystemExit(f"refusing to load {url}: only loopback addresses (127.0.0.0/8, ::1, localhost)")
    return url.rstrip("/")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def summary(latencies_s: list[float], wall_s: float) -> dict:
    ms = sorted(x * 1000 for x in latencies_s)
    return {
        "requests": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1],
        "mean_ms": statistics.fmean(ms),
        "req_per_s": len(ms) / wall_s,
    }


def sample_ids(settings: ServeSettings, n: int) -> list[str]:
    with psycopg.connect(settings.conninfo, autocommit=True) as conn:
        for statement in settings.session_setup():
            conn.execute(statement)
        rows = conn.execute(
            f'select customer_id::text from "{settings.marts}".customer_profiles'
            " order by md5(customer_id::text) limit %s",
            (n,),
        ).fetchall()
    if not rows:
        raise SystemExit("no customers in the mart: run `make demo` first")
    return [r[0] for r in rows]


def database_side(settings: ServeSettings, ids: list[str], n: int) -> tuple[list[str], dict]:
    """The lookup's plan, and the statement alone over one connection (no HTTP)."""
    statement = Queries(settings.marts, settings.udf, settings.catalog).customer_profile_sql
    with psycopg.connect(settings.conninfo, autocommit=True) as conn:
        for s in settings.session_setup():
            conn.execute(s)
        plan = [
            r[0]
            for r in conn.execute(
                psycopg.sql.SQL("explain (analyze, costs off, timing off) ") + statement, {"customer_id": ids[0]}
            ).fetchall()
        ]
        latencies = []
        started = time.perf_counter()
        for i in range(n):
            t = time.perf_counter()
            conn.execute(statement, {"customer_id": ids[i % len(ids)]}).fetchone()
            latencies.append(time.perf_counter() - t)
        wall = time.perf_counter() - started
    return plan, summary(latencies, wall)


class KeepAliveClient:
    """A minimal HTTP/1.1 keep-alive GET client on asyncio streams: a fraction of httpx's CPU per
    request, which matters when client and server share the machine's two cores."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(int(line.split(":", 1)[1]) for line in lines[1:] if line.lower().startswith("content-length:"))
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def run_load(url: str, ids: list[str], requests: int, concurrency: int, warmup: int) -> dict:
    parts = urlsplit(url)
    clients = [KeepAliveClient(parts.hostname, parts.port or 80) for _ in range(concurrency)]
    paths = [f"/api/mcp/customer/{quote(i, safe='')}" for i in ids]
    try:
        for i in range(warmup):
            status, _ = await clients[i % concurrency].get(paths[i % len(paths)])
            if status != 200:
                raise SystemExit(f"warm-up request got HTTP {status}")
        latencies: list[float] = []
        errors = 0
        counter = iter(range(requests))

        async def worker(client: KeepAliveClient):
            nonlocal errors
            for i in counter:
                t = time.perf_counter()
                status, _ = await client.get(paths[i % len(paths)])
                latencies.append(time.perf_counter() - t)
                errors += status != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        wall = time.perf_counter() - started
    finally:
        for c in clients:
            await c.close()
    result = summary(latencies, wall)
    result["errors"] = errors
    return result


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def start_server(env: dict) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shopseg.serve.api", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the API did not start: {proc.stderr.read()[-2000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the API did not start within 60 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopseg.serve.load", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running API on loopback (default: start one)")
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per concurrency level")
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--ids", type=int, default=1000, help="distinct customers to cycle through")
    args = parser.parse_args(argv)
    if not 1 <= args.requests <= MAX_REQUESTS or not all(1 <= c <= MAX_CONCURRENCY for c in args.concurrency):
        parser.error(f"--requests must be 1..{MAX_REQUESTS} and --concurrency 1..{MAX_CONCURRENCY}")

    settings = ServeSettings.from_env()
    ids = sample_ids(settings, args.ids)
    plan, db = database_side(settings, ids, args.requests)
    proc = None
    if args.url:
        url = loopback_only(args.url)
    else:
        proc, url = start_server(dict(os.environ))
    results = []
    try:
        for c in args.concurrency:
            before = process_cpu_s(proc.pid) if proc else None
            result = asyncio.run(run_load(url, ids, args.requests, c, args.warmup))
            after = process_cpu_s(proc.pid) if proc else None
            if before is not None and after is not None:
                result["server_cpu_ms"] = (after - before) * 1000 / (args.requests + args.warmup)
            results.append((c, result))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)

    print(f"customer lookup plan ({settings.marts}.api_customer_profile, {len(ids)} sampled ids):")
    for line in plan:
        print(f"    {line}")
    print(
        f"\n{'what':<32} {'requests':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
        f"{'req/s':>8} {'srv cpu':>8}"
    )
    rows = [("SQL only, 1 connection", db)] + [(f"HTTP GET, concurrency {c}", r) for c, r in results]
    for name, r in rows:
        cpu = f"{r['server_cpu_ms']:>8.2f}" if "server_cpu_ms" in r else f"{'':>8}"
        print(
            f"{name:<32} {r['requests']:>8} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['p99_ms']:>8.2f} "
            f"{r['max_ms']:>8.2f} {r['req_per_s']:>8.0f} {cpu}"
        )
    with contextlib.suppress(OSError):  # no load average on this platform
        print(
            f"\nload average while measuring: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs); "
            "server CPU = the API process's CPU time per request (excludes PostgreSQL)"
        )
    failed = sum(r["errors"] for _, r in results)
    if failed:
        print(f"\n{failed} requests did not return 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
