"""The parts under the HTTP layer: the job store's compare-and-set, the janitor's crash recovery, the pipeline
adapter's mode dispatch, and upload resampling."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import openai
import pytest
from server_helpers import make_mp4, make_png

from tenku.server.generator import GenerationRequest, ModeUnavailable, PipelineGenerator, fit, letterbox
from tenku.server.jobs import Job
from tenku.server.services import open_store
from tenku.server.settings import ServerSettings
from tenku.server.uploads import VideoLimits, decode_video
from tenku.server.worker import WorkerPool
from tenku.video import Video


@pytest.fixture
def pool(tmp_path):
    settings = ServerSettings(data_dir=tmp_path, generator="fake", job_max_attempts=2, worker_lease_s=60,
                              expire_after_s=10)
    store, queue = open_store(settings)
    return WorkerPool(settings, store, queue, generator=None, webhooks=None, threads=0)


def _job(store, status="queued", worker=None, attempts=0, heartbeat_at=None, **kw) -> Job:
    job = Job(id=f"video_{os.urandom(4).hex()}", owner="o", kind="create", model="m", seconds="4", size="64x64",
              prompt="p", params={"seconds": 4.0, "seed": 1}, created_at=int(time.time()), status=status,
              worker=worker, attempts=attempts, heartbeat_at=heartbeat_at, **kw)
    store.add(job)
    return job


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_claim_is_a_compare_and_set(pool):
    store = pool.store
    job = _job(store)
    assert store.claim(job.id, "w1").status == "in_progress"
    assert store.claim(job.id, "w2") is None  # a duplicate queue message is harmless
    assert store.set_progress(job.id, "w2", 50) is None  # not w2's job
    assert store.set_progress(job.id, "w1", 50) == "in_progress"
    assert store.cancel(job.id)
    assert store.set_progress(job.id, "w1", 60) == "cancelled"  # the worker learns it must stop
    assert not store.complete(job.id, "w1", {"video": "x"}, None)
    assert store.get(job.id).progress == 50 and store.get(job.id, owner="someone else") is None


def test_janitor_requeues_then_fails_jobs_of_dead_workers(pool):
    store, host, now = pool.store, socket.gethostname(), time.time()
    dead = f"{host}:{_dead_pid()}:abcd"
    first = _job(store, "in_progress", worker=dead, attempts=1, heartbeat_at=now)
    last = _job(store, "in_progress", worker=dead, attempts=2, heartbeat_at=now)
    reborn = _job(store, "in_progress", worker=f"{host}:{os.getpid()}:oldtoken", attempts=1, heartbeat_at=now)
    remote_alive = _job(store, "in_progress", worker="elsewhere:1:t", attempts=1, heartbeat_at=now)
    remote_silent = _job(store, "in_progress", worker="elsewhere:2:t", attempts=1, heartbeat_at=now - 600)
    lost_message = _job(store)  # queued in the store, never reached the queue

    pool.janitor_pass()
    assert store.get(first.id).status == "queued"
    failed = store.get(last.id)
    assert failed.status == "failed" and failed.error["code"] == "worker_lost"
    assert "gave up after 2 attempts" in failed.error["message"]
    assert store.get(reborn.id).status == "queued"  # same pid, new token: a restarted container
    assert store.get(remote_alive.id).status == "in_progress"  # another host with a fresh heartbeat
    assert store.get(remote_silent.id).status == "queued"  # its lease ran out
    assert pool.queue.pending() >= {first.id, reborn.id, remote_silent.id, lost_message.id}


def test_a_clean_shutdown_hands_the_running_job_back_to_the_queue(make_server):
    srv = make_server()
    c = srv.client()
    video = c.videos.create(prompt="interrupted politely pace=0.3", size="128x72")
    deadline = time.monotonic() + 10
    while c.videos.retrieve(video.id).status != "in_progress":
        assert time.monotonic() < deadline
        time.sleep(0.02)
    store, queue = srv.services.store, srv.services.queue
    srv.stop()  # lifespan shutdown: the worker stops at its next sampling step
    job = store.get(video.id)
    assert (job.status, job.attempts, job.worker, job.progress) == ("queued", 0, None, 0)
    assert video.id in queue.pending()


def test_janitor_deletes_expired_files(pool):
    store = pool.store
    job = _job(store, "completed", expires_at=int(time.time()) - 1)
    folder = pool.data_dir / "videos" / job.id
    folder.mkdir(parents=True)
    (folder / "video.mp4").write_bytes(b"x")
    kept = _job(store, "completed", files={"video": "videos/other/video.mp4"}, expires_at=int(time.time()) + 60)
    store._exec("update jobs set files = ? where id = ?", ('{"video": "videos/%s/video.mp4"}' % job.id, job.id))
    pool.janitor_pass()
    assert not folder.exists() and store.get(job.id).files == {}
    assert store.get(kept.id).files == {"video": "videos/other/video.mp4"}


class CallOnlyPipe:
    """A pipeline with text-to-video only (as tenku.pipeline.Pipeline starts out), recording its calls."""

    def __init__(self):
        self.calls = []

    def __call__(self, prompt, **kw):
        self.calls.append((prompt, kw))
        kw["callback"](1, 1)
        return Video(frames=np.zeros((int(kw["seconds"] * kw["fps"]), kw["height"], kw["width"], 3), np.uint8),
                     fps=kw["fps"])


def test_pipeline_adapter_dispatches_and_names_missing_modes():
    pipe = CallOnlyPipe()
    gen = PipelineGenerator(pipe, "tiny", fps=8, long_side=64)
    assert gen.unavailable("text-to-video") is None
    assert "mode 'remix' is not available in this model yet" in gen.unavailable("remix")
    req = GenerationRequest(kind="create", prompt="a ball", seconds=4, width=1280, height=720, fps=8, seed=3, steps=5)
    video = gen.generate(req, lambda s, t: None)
    prompt, kw = pipe.calls[0]
    assert prompt == "a ball" and (kw["width"], kw["height"]) == (64, 48)  # same aspect, rounded up to 16
    assert (kw["seconds"], kw["seed"], kw["steps"], kw["fps"]) == (4, 3, 5, 8)
    assert fit(video.frames, 1280, 720).shape == (32, 720, 1280, 3)
    with pytest.raises(ModeUnavailable, match="extension"):
        gen.generate(GenerationRequest(kind="extension", prompt="x", seconds=4, width=64, height=64, fps=8, seed=0,
                                       video=video), lambda s, t: None)


def test_inputs_are_letterboxed_so_the_output_crop_keeps_their_framing():
    yy, xx = np.mgrid[0:72, 0:128]
    frame = np.stack([xx * 2, yy * 3, xx + yy], -1).astype(np.uint8)[None]  # smooth, 16:9
    boxed = letterbox(frame, 64, 48)  # the model's 4:3 working size for a 16:9 request
    assert boxed.shape == (1, 48, 64, 3)
    assert np.abs(fit(boxed, 128, 72).astype(int) - frame).mean() < 2  # crop + resize undoes it


def test_a_server_on_a_partial_model_answers_400_for_missing_modes(make_server):
    srv = make_server(gen=PipelineGenerator(CallOnlyPipe(), "tiny", fps=8, long_side=64))
    c = srv.client()
    video = c.videos.create_and_poll(prompt="text works", model="tiny", size="128x72")
    assert video.status == "completed" and [m.id for m in c.models.list()] == ["tiny"]
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.remix(video.id, prompt="not yet")
    assert e.value.code == "mode_unavailable" and "not available in this model yet" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.create(prompt="i2v", input_reference=("a.png", make_png(), "image/png"))
    assert e.value.param == "input_reference" and "image-to-video" in e.value.message


def test_upload_resampling_keeps_the_duration(tmp_path):
    limits = VideoLimits(max_pixels=10**6, max_seconds=10, max_frames=1000, long_side=48)
    fast = make_mp4(tmp_path / "fast.mp4", frames=24, fps=24, w=96, h=64)  # 1 s
    slow = make_mp4(tmp_path / "slow.mp4", frames=4, fps=4, w=96, h=64)  # 1 s
    for path in (fast, slow):
        v = decode_video(path, limits=limits, param="video", fps=8)
        assert v.frames.shape == (8, 32, 48, 3) and v.fps == 8  # downscaled to the long side, even sizes
