"""gridserve against titiler-xarray, same Zarr stores, same run, loopback only.

    .venv/bin/python bench/app_tiles.py            # after ./dev setup

Prints tile latency (the smoke tile repeated, and 200 mixed tiles z0-10 at random days),
timeseries latency (a full year at random points, against titiler-xarray's /point on the
timeseries-chunked store) and requests/s for the mixed tiles with 2 uvicorn workers each.

The 2 workers are two single-worker uvicorn processes on their own ports, 4 of the 8 keep-alive
connections to each: that is how the service runs (one worker per ECS task, the ALB spreading
requests over the tasks). One `uvicorn --workers 2` shares one listening socket instead, and the
kernel handed all 8 connections to one worker in most tries (the other idled), so that measured
one worker; `--one-process` measures it anyway.

The req/s run also reports the CPU the servers used per request and the share of the two cores
they got: other work on the machine takes the rest, and that, not the service, is what moves the
req/s figure from run to run. The load generator is this process's asyncio client (a few lines
over raw keep-alive sockets); its own CPU share is printed too (5-8 % of a core at ~500 req/s,
about half what vegeta used at the same rate in a side-by-side try).

titiler-xarray gets its own venv under .tools/bench-venv (created here with uv from
bench/requirements-titiler.txt): its pins conflict with the service's. Load goes to 127.0.0.1
only, and every loop is bounded by a request count. gridserve has no response cache, and the
tiles and days are drawn so that nearly every request differs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from gridserve import data  # the bench runs in the dev venv, where gridserve is installed

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".tools" / "bench-venv"
TITILER_REQUIREMENTS = ROOT / "bench" / "requirements-titiler.txt"
HOST = "127.0.0.1"
SEED = 7
RESCALE = (-40, 40)
STARTUP_SECONDS = 120
SMOKE_DAY = "2024-04-10"


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Latency:
    p50_ms: float
    p95_ms: float
    count: int


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    server_cpu_seconds: float  # the uvicorn supervisor and its workers, user + system
    client_cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms_per_request(self) -> float:
        return self.server_cpu_seconds * 1e3 / self.requests

    def describe(self) -> str:
        return (
            f"{self.rate:6.0f} req/s ({self.requests} requests), server CPU "
            f"{self.server_cpu_ms_per_request:.2f} ms/request, server used "
            f"{self.server_cpu_seconds / self.seconds:.2f} of {os.cpu_count()} cores, load "
            f"generator {self.client_cpu_seconds / self.seconds:.0%} of a core"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_titiler_venv() -> Path:
    """Create or refresh .tools/bench-venv when bench/requirements-titiler.txt changed."""
    python = BENCH_VENV / "bin" / "python"
    stamp = BENCH_VENV / ".requirements-sha256"
    wanted = hashlib.sha256(TITILER_REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is needed to build .tools/bench-venv: run ./dev setup first")
    print(f"building {BENCH_VENV} from {TITILER_REQUIREMENTS.name}", flush=True)
    subprocess.run([uv, "venv", "--quiet", "--python", "python3.11", str(BENCH_VENV)], check=True)
    env = {**os.environ, "VIRTUAL_ENV": str(BENCH_VENV)}
    sync = [uv, "pip", "sync", "--quiet", str(TITILER_REQUIREMENTS)]
    subprocess.run(sync, check=True, env=env)
    stamp.write_text(wanted)
    return python


async def fetch(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str
) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive GET; a few lines of asyncio keep the client's own cost small."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    length = {k.lower(): v for k, v in headers.items()}.get("content-length")
    if length is None:
        raise RuntimeError(f"{path}: no Content-Length (chunked answers are not expected)")
    return status, await reader.readexactly(int(length))


async def timed_sequence(port: int, paths: Sequence[str]) -> list[float]:
    reader, writer = await asyncio.open_connection(HOST, port)
    durations = []
    try:
        for path in paths:
            started = time.perf_counter()
            status, body = await fetch(reader, writer, path)
            durations.append(time.perf_counter() - started)
            if status != 200 or not body:
                raise RuntimeError(f"{path} answered {status}: {body[:200]!r}")
    finally:
        writer.close()
    return durations


def process_tree_cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process and its children so far (Linux /proc)."""
    clock_ticks = os.sysconf("SC_CLK_TCK")
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    total = 0
    for member in (pid, *map(int, children)):
        # Fields after the parenthesised command name; utime and stime are the 14th and 15th.
        fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / clock_ticks


async def throughput(
    servers: Sequence[Server], paths: Sequence[str], connections: int
) -> Throughput:
    """``connections`` keep-alive clients sharing the path list, spread evenly over the servers;
    the CPU the servers and the load generator (on the same cores) used meanwhile."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)

    async def client(port: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while not queue.empty():
                path = queue.get_nowait()
                status, _ = await fetch(reader, writer, path)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
        finally:
            writer.close()

    def server_cpu() -> float:
        return sum(process_tree_cpu_seconds(server.process.pid) for server in servers)

    ports = [servers[i % len(servers)].port for i in range(connections)]
    server_cpu_before = server_cpu()
    started, client_cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(client(port) for port in ports))
    return Throughput(
        requests=len(paths),
        seconds=time.perf_counter() - started,
        server_cpu_seconds=server_cpu() - server_cpu_before,
        client_cpu_seconds=time.process_time() - client_cpu,
    )


def latency(durations: Sequence[float]) -> Latency:
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    return Latency(p50_ms=cuts[49] * 1e3, p95_ms=cuts[94] * 1e3, count=len(durations))


Tile = tuple[int, int, int, str]


def mixed_tiles(count: int, rng: random.Random) -> list[Tile]:
    """Random zoom 0..10, random tile at that zoom, random day of 2024."""
    chosen = []
    for _ in range(count):
        z = rng.randint(0, 10)
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(366))
        chosen.append((z, rng.randrange(2**z), rng.randrange(2**z), day.isoformat()))
    return chosen


def random_points(count: int, rng: random.Random) -> list[tuple[float, float]]:
    return [
        (round(rng.uniform(-179.9, 179.9), 3), round(rng.uniform(-89.9, 89.9), 3))
        for _ in range(count)
    ]


@dataclass(frozen=True)
class Workload:
    tiles: list[Tile]
    warm_tiles: list[Tile]
    load_tiles: list[Tile]
    points: list[tuple[float, float]]
    repeat: int


def gridserve_paths(work: Workload) -> dict[str, list[str]]:
    low, high = RESCALE

    def tile(z: int, x: int, y: int, day: str) -> str:
        return f"/tiles/test-collection/{z}/{x}/{y}.png?time={day}&vmin={low}&vmax={high}"

    def series(lon: float, lat: float, start: str, end: str) -> str:
        return f"/api/timeseries?lon={lon}&lat={lat}&start={start}&end={end}&variable=temp"

    year = ("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z")
    january = ("2024-01-01T00:00:00Z", "2024-01-31T23:59:59Z")
    return {
        "warm": [tile(*t) for t in work.warm_tiles] + [series(0, 0, *year)],
        "smoke tile": [tile(10, 512, 512, SMOKE_DAY)] * work.repeat,
        "mixed tiles": [tile(*t) for t in work.tiles],
        "timeseries": [series(lon, lat, *year) for lon, lat in work.points],
        "smoke timeseries": [series(150, -33, *january)] * work.repeat,
        "load": [tile(*t) for t in work.load_tiles],
    }


def titiler_paths(work: Workload, stores: Path) -> dict[str, list[str]]:
    """titiler-xarray's own endpoints: tiles from the map store, /point from the timeseries
    store (each its best case); /point on a 3-D variable answers every time step."""
    low, high = RESCALE
    map_store, series_store = stores / data.MAP_STORE, stores / data.TIMESERIES_STORE

    def tile(z: int, x: int, y: int, day: str) -> str:
        return (
            f"/tiles/WebMercatorQuad/{z}/{x}/{y}.png?url={map_store}&variable=temp"
            f"&sel=time={day}&rescale={low},{high}&colormap_name=viridis"
        )

    def point(lon: float, lat: float) -> str:
        return f"/point/{lon},{lat}?url={series_store}&variable=temp"

    # It is ~50x slower: a tenth of the load keeps the run short and still gives a stable rate.
    load = work.load_tiles[: max(200, len(work.load_tiles) // 10)]
    return {
        "warm": [tile(*t) for t in work.warm_tiles] + [point(0, 0)],
        "smoke tile": [tile(10, 512, 512, SMOKE_DAY)] * work.repeat,
        "mixed tiles": [tile(*t) for t in work.tiles],
        "timeseries": [point(lon, lat) for lon, lat in work.points],
        "load": [tile(*t) for t in load],
    }


@contextmanager
def serving(
    name: str, command: list[str], env: dict[str, str], port: int, ready_path: str
) -> Iterator[Server]:
    process = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tempfile.gettempdir(),
    )
    server = Server(name, port, process)
    try:
        wait_ready(server, ready_path)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_ready(server: Server, path: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            errors = server.process.stderr.read().decode() if server.process.stderr else ""
            raise SystemExit(f"{server.name} exited while starting:\n{errors[-2000:]}")
        try:
            asyncio.run(timed_sequence(server.port, [path]))
            return
        except (OSError, RuntimeError, asyncio.IncompleteReadError):
            time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer {path} within {STARTUP_SECONDS} s")


def uvicorn(python: Path, app: str, port: int, workers: int) -> list[str]:
    return [
        *(str(python), "-m", "uvicorn", app, "--host", HOST, "--port", str(port)),
        *("--workers", str(workers), "--no-access-log", "--log-level", "warning"),
    ]


@dataclass(frozen=True)
class Contender:
    name: str
    python: Path
    app: str
    ready_path: str
    paths: dict[str, list[str]]


def measure(
    contender: Contender, env: dict[str, str], connections: int, one_process: bool
) -> tuple[dict[str, Latency], Throughput]:
    """Latencies with 1 worker (sequential keep-alive requests), then req/s with 2 workers: two
    single-worker processes, or one process with ``--workers 2`` when ``one_process``."""
    latencies: dict[str, Latency] = {}
    port = free_port()
    command = uvicorn(contender.python, contender.app, port, 1)
    with serving(contender.name, command, env, port, contender.ready_path):
        asyncio.run(timed_sequence(port, contender.paths["warm"]))
        for key, paths in contender.paths.items():
            if key not in ("warm", "load"):
                latencies[key] = latency(asyncio.run(timed_sequence(port, paths)))
    with ExitStack() as stack:
        layout = [2] if one_process else [1, 1]
        servers = []
        for workers in layout:
            port = free_port()
            command = uvicorn(contender.python, contender.app, port, workers)
            servers.append(
                stack.enter_context(
                    serving(contender.name, command, env, port, contender.ready_path)
                )
            )
        asyncio.run(throughput(servers, contender.paths["warm"] * 2, connections))
        load = asyncio.run(throughput(servers, contender.paths["load"], connections))
    print(f"{contender.name}: measured, 1-min load average {os.getloadavg()[0]:.1f}", flush=True)
    return latencies, load


def line(label: str, ours: Latency, anchor: Latency | None) -> str:
    text = (
        f"{label:<34} n={ours.count:<4} gridserve p50 {ours.p50_ms:7.2f} ms p95 {ours.p95_ms:7.2f}"
    )
    if anchor is None:
        return text + " ms"
    return (
        text + f" ms | titiler-xarray p50 {anchor.p50_ms:7.2f} ms p95 {anchor.p95_ms:7.2f} ms"
        f" | p50 {anchor.p50_ms / ours.p50_ms:5.1f}x faster"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiles", type=int, default=200, help="mixed tiles z0-10")
    parser.add_argument("--repeat", type=int, default=100, help="smoke tile/query repetitions")
    parser.add_argument("--points", type=int, default=100, help="timeseries points")
    parser.add_argument("--load", type=int, default=3000, help="requests in the req/s run")
    parser.add_argument("--connections", type=int, default=8, help="clients in the req/s run")
    parser.add_argument(
        "--one-process",
        action="store_true",
        help="req/s against one `uvicorn --workers 2` (a shared socket) instead of two processes",
    )
    args = parser.parse_args(argv)

    titiler_python = ensure_titiler_venv()
    rng = random.Random(SEED)
    work = Workload(
        tiles=mixed_tiles(args.tiles, rng),
        warm_tiles=mixed_tiles(10, rng),
        load_tiles=mixed_tiles(args.load, rng),
        points=random_points(args.points, rng),
        repeat=args.repeat,
    )
    with tempfile.TemporaryDirectory(prefix="gridserve-bench-") as scratch:
        stores = Path(scratch)
        started = time.perf_counter()
        data.generate(stores)
        print(f"dataset generated in {time.perf_counter() - started:.1f} s", flush=True)
        env = {
            **os.environ,
            "GRIDSERVE_DATA_DIR": str(stores),
            "GRIDSERVE_GENERATE_EMBEDDED": "false",
        }
        ours = Contender(
            "gridserve",
            Path(sys.executable),
            "gridserve.main:app",
            "/health",
            gridserve_paths(work),
        )
        anchor = Contender(
            "titiler-xarray",
            titiler_python,
            "titiler.xarray.main:app",
            "/healthz",
            titiler_paths(work, stores),
        )
        print(f"1-min load average before the runs {os.getloadavg()[0]:.1f}", flush=True)
        our_latency, our_load = measure(ours, env, args.connections, args.one_process)
        anchor_latency, anchor_load = measure(anchor, env, args.connections, args.one_process)

    print(f"\n{os.cpu_count()} cores; 1-min load average at the end {os.getloadavg()[0]:.1f}")
    labels = {
        "smoke tile": "tile 10/512/512, repeated",
        "mixed tiles": "tiles, mixed z0-10, random days",
        "timeseries": "timeseries, full year, random pts",
        "smoke timeseries": "timeseries smoke query (31 days)",
    }
    for key, label in labels.items():
        print(line(label, our_latency[key], anchor_latency.get(key)))
    layout = "one uvicorn --workers 2" if args.one_process else "two 1-worker uvicorn processes"
    print(
        f"mixed tiles, 2 workers ({layout}), {args.connections} keep-alive connections from this "
        f"process's asyncio client:\n  gridserve      {our_load.describe()}\n"
        f"  titiler-xarray {anchor_load.describe()}\n"
        f"  gridserve {our_load.rate / anchor_load.rate:.1f}x the req/s, "
        f"{anchor_load.server_cpu_ms_per_request / our_load.server_cpu_ms_per_request:.1f}x less "
        "server CPU per request"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
