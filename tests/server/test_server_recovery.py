"""Crash recovery with real processes: `tenku serve` killed with SIGKILL mid-generation and started again, and a
separate `tenku worker` process doing the work of a server that runs none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from server_helpers import free_port

SMALL = "128x72"


def _spawn(args: list[str], data_dir, env_extra: dict[str, str]) -> subprocess.Popen:
    env = {**os.environ, "TENKU_FAKE_STEPS": "8", "TENKU_POLL_AFTER_MS": "20", **env_extra}
    env.pop("TENKU_API_KEYS", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tenku.cli", *args, "--data-dir", str(data_dir), "--generator", "fake"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


def _serve(data_dir, port: int, step_s: float, *extra: str) -> subprocess.Popen:
    proc = _spawn(["serve", "--port", str(port), "--log-level", "warning", *extra], data_dir,
                  {"TENKU_FAKE_STEP_S": str(step_s)})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tenku serve exited: {proc.stderr.read().decode()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("tenku serve did not start")


def _client(port: int):
    import openai

    return openai.OpenAI(api_key="anything", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout=30)


def _wait(predicate, timeout_s: float = 30.0, every_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError("timed out")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_sigkill_mid_generation_then_restart_recovers_every_job(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    proc = _serve(data, port, step_s=0.25)  # 8 steps: a 2 s generation
    try:
        c = _client(port)
        done = c.videos.create_and_poll(prompt="finished before the crash", size=SMALL)
        assert done.status == "completed"
        before = c.videos.download_content(done.id).content

        running = c.videos.create(prompt="interrupted by SIGKILL", size=SMALL)
        waiting = c.videos.create(prompt="queued behind it", size=SMALL)
        _wait(lambda: c.videos.retrieve(running.id).progress > 5)
        # the HTTP side stays responsive while the worker thread generates
        t0 = time.monotonic()
        assert c.videos.retrieve(waiting.id).status == "queued"
        assert time.monotonic() - t0 < 0.5
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()

    proc = _serve(data, port, step_s=0.0)
    try:
        c = _client(port)
        final = c.videos.poll(running.id, poll_interval_ms=50)
        # re-run (attempt 2 of job_max_attempts=2) or failed with a clear error, never stuck in_progress
        assert final.status in ("completed", "failed")
        if final.status == "failed":
            assert final.error.code == "worker_lost" and "stopped unexpectedly" in final.error.message
        assert final.status == "completed"  # with the default of 2 attempts it is re-run
        assert c.videos.poll(waiting.id, poll_interval_ms=50).status == "completed"
        assert c.videos.download_content(done.id).content == before
        assert c.videos.download_content(running.id).content[4:8] == b"ftyp"
        leftovers = [p.name for p in (data / "videos").rglob("*") if p.name.startswith(".")]
        assert leftovers == []  # no temporary files left behind by the killed encode
    finally:
        _stop(proc)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal so the exit status reports it
    assert proc.returncode in (0, -signal.SIGTERM)
    assert b"Traceback" not in proc.stderr.read()


@pytest.mark.slow
def test_a_separate_worker_process_runs_the_jobs_of_a_server_without_workers(tmp_path):
    port = free_port()
    data = tmp_path / "data"
    server = _serve(data, port, 0.0, "--workers-in-process", "0")
    worker = None
    try:
        c = _client(port)
        video = c.videos.create(prompt="made by tenku worker", size=SMALL)
        time.sleep(0.5)
        assert c.videos.retrieve(video.id).status == "queued"  # nobody in the server process picks it up
        worker = _spawn(["worker"], data, {"TENKU_FAKE_STEP_S": "0"})
        assert c.videos.poll(video.id, poll_interval_ms=50).status == "completed"
        assert c.videos.download_content(video.id, variant="thumbnail").content[8:12] == b"WEBP"
    finally:
        if worker is not None:
            _stop(worker)
        _stop(server)
    assert worker.returncode == 0, worker.stderr.read().decode()
