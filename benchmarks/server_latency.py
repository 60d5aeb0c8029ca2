"""`tenku serve` under load: GET /v1/videos/{id} latency and GET /v1/videos throughput, with the worker idle and
while a generation is running.

    OMP_NUM_THREADS=1 python3 benchmarks/server_latency.py [--clients 50] [--seconds 8] [--model PATH]

Starts a real server (uvicorn in its own process, no API keys, loopback) on a fresh data dir, seeds it with
`--videos` completed videos, then measures with `--clients` concurrent httpx async clients for `--seconds` each:

* `GET /v1/videos/{id}` (a completed video, as the SDK's poll() does): latency p50 / p99 / max and requests/s,
  from one client alone (a lone poller) and from all of them;
* `GET /v1/videos?limit=20` (one page): the same with all clients, throughput being the point.

Both run twice: with the worker idle, then while one long generation runs in the server's worker thread (it is
cancelled afterwards). The generation column shows how far it got during the run, to show it was generating.
By default the generator is the fake pipeline with CPU-bound sampling steps (numpy matrix products for
`--step-ms` per step, standing in for a model's denoising step); `--model PATH` serves the real pipeline instead
(the long generation then asks for `--model-steps` sampling steps). The clients run in this process, the server
in another: on a small machine they share the cores, so the figures are a floor, not the server's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import socket
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from rich.console import Console
from rich.table import Table

from tenku.server.fake import FakePipeline


class BusyPipeline(FakePipeline):
    """The fake pipeline whose sampling steps burn CPU (matrix products) for `step_s`, like a model would."""

    def sample_step(self) -> None:
        a = np.random.default_rng(0).standard_normal((256, 256), dtype=np.float32)
        end = time.perf_counter() + self.step_s
        while time.perf_counter() < end:
            a = np.tanh(a @ a * 0.01)


def _serve(data_dir: str, port: int, model: str | None, step_s: float) -> None:
    """The server process: `tenku serve` as the CLI builds it, on the busy fake or on the model in `model`."""
    import uvicorn

    from tenku.server.app import create_app
    from tenku.server.generator import PipelineGenerator
    from tenku.server.settings import ServerSettings

    settings = ServerSettings(data_dir=Path(data_dir), generator="pipeline" if model else "fake",
                              model=Path(model) if model else None, max_active_jobs=10_000, poll_after_ms=100)
    generator = None
    if not model:
        pipe = BusyPipeline(fps=8, steps=1, step_s=step_s)
        generator = PipelineGenerator(pipe, "tenku-busy-fake", fps=8, long_side=64)
    uvicorn.run(create_app(settings, generator), host="127.0.0.1", port=port, log_level="warning")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _wait(client: httpx.AsyncClient, video_id: str, until: tuple[str, ...], timeout_s: float = 600) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = (await client.get(f"/videos/{video_id}")).json()
        if v["status"] in until:
            return v
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{video_id} never reached {until}")


async def _load(base_url: str, path: str, clients: int, seconds: float) -> dict:
    """`clients` coroutines, each with its own httpx client and connection, GET `path` back to back for `seconds`.
    (One shared AsyncClient with a 50-connection pool spends more CPU in its pool than the server spends answering.)"""
    latencies: list[float] = []
    errors = 0
    pool = [httpx.AsyncClient(base_url=base_url, timeout=30) for _ in range(clients)]
    try:
        await asyncio.gather(*(c.get(path) for c in pool))  # open the connections first
        stop = time.perf_counter() + seconds

        async def one(client: httpx.AsyncClient) -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - t0)
                errors += r.status_code != 200

        t0 = time.perf_counter()
        await asyncio.gather(*(one(c) for c in pool))
        elapsed = time.perf_counter() - t0
    finally:
        await asyncio.gather(*(c.aclose() for c in pool))
    ms = sorted(x * 1000 for x in latencies)
    return {"requests": len(ms), "rps": len(ms) / elapsed, "p50": statistics.median(ms),
            "p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))], "max": ms[-1], "errors": errors}


async def _bench(base_url: str, args) -> tuple[list[tuple[str, str, dict, str]], str]:
    rows = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        seed = {"prompt": "seed video", "size": "64x64", "seconds": 1, "steps": 1}
        ids = [(await client.post("/videos", json=seed)).json()["id"] for _ in range(args.videos)]
        for vid in ids:
            await _wait(client, vid, ("completed",))
        target = ids[len(ids) // 2]
        model = (await client.get("/models")).json()["data"][0]["id"]

        for state in ("idle", "generating"):
            job = None
            if state == "generating":
                # enough steps to outlast the three measurements (about a quarter of it is used), then cancelled
                busy_steps = int(4 * (2 * args.seconds + 10) * 1000 / args.step_ms)
                steps = args.model_steps if args.model else min(1000, busy_steps)
                long = {"prompt": "a long generation", "size": "128x72", "seconds": 4, "steps": steps}
                r = await client.post("/videos", json=long)
                assert r.status_code == 200, r.text
                job = r.json()["id"]
                await _wait(client, job, ("in_progress",))
                await asyncio.sleep(0.5)  # into the sampling loop
            one = f"/videos/{target}"
            for label, path, clients, seconds in (
                ("GET /v1/videos/{id}", one, 1, min(3.0, args.seconds)),  # a lone poller, as the SDK's poll()
                ("GET /v1/videos/{id}", one, args.clients, args.seconds),
                ("GET /v1/videos?limit=20", "/videos?limit=20", args.clients, args.seconds),
            ):
                before = (await client.get(f"/videos/{job}")).json() if job else None
                stats = await _load(base_url, path, clients, seconds)
                stats["clients"] = clients
                gen = "-"
                if job:
                    after = (await client.get(f"/videos/{job}")).json()
                    assert after["status"] == "in_progress", f"the long generation ended early: {after}"
                    gen = f"{before['progress']}% -> {after['progress']}%"
                rows.append((state, label, stats, gen))
            if job:
                await client.post(f"/videos/{job}/cancel")
    return rows, model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=8.0, help="length of each measurement")
    ap.add_argument("--videos", type=int, default=40, help="completed videos to seed (the list has pages)")
    ap.add_argument("--model", type=str, default=None, help="checkpoint folder: serve the real pipeline")
    ap.add_argument("--model-steps", type=int, default=500, help="sampling steps of the long real generation")
    ap.add_argument("--step-ms", type=float, default=100.0, help="CPU time per step of the busy fake")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="tenku-bench-") as data_dir:
        port = _free_port()
        ctx = mp.get_context("spawn")
        server = ctx.Process(target=_serve, args=(data_dir, port, args.model, args.step_ms / 1000), daemon=True)
        server.start()
        base_url = f"http://127.0.0.1:{port}/v1"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if not server.is_alive() or time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            rows, model = asyncio.run(_bench(base_url, args))
        finally:
            server.terminate()
            server.join(30)

    gen = f"model {args.model}" if args.model else f"busy fake, {args.step_ms:g} ms CPU per step"
    table = Table(title=f"tenku serve under load ({model}: {gen}; {args.seconds:g} s per {args.clients}-client row)")
    for col in ("worker", "request", "clients", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "errors",
                "generation"):
        table.add_column(col, justify="left" if col in ("worker", "request", "generation") else "right",
                         no_wrap=True)
    for state, label, s, g in rows:
        table.add_row(state, label, str(s["clients"]), str(s["requests"]), f"{s['rps']:.0f}", f"{s['p50']:.1f}",
                      f"{s['p99']:.1f}", f"{s['max']:.1f}", str(s["errors"]), g)
    console = Console(width=140)
    console.print(table)
    console.print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
                  f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, Python {platform.python_version()}; "
                  "clients and server share the machine", highlight=False)


if __name__ == "__main__":
    main()
