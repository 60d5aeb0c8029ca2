"""Workers: take job ids off the queue, run the generator, deliver the files, and recover from crashes.

One `WorkerPool` per process (inside `tenku serve`, or `tenku worker` on its own): N worker threads that each loop
`queue.get -> store.claim -> generate -> write files -> store.complete`, plus one janitor thread that

* hands back jobs whose worker died (SIGKILL, OOM, power cut): a job `in_progress` under a worker that is gone is
  queued again until `job_max_attempts` attempts, then failed with a clear error, never left `in_progress`;
* re-enqueues queued jobs whose id is missing from the queue (a crash between the store insert and the enqueue);
* deletes delivered files once they expire (`expire_after_s`).

A worker is "host:pid:token". It is dead when its heartbeat is older than `worker_lease_s`, or at once when it
ran on this host and its process is gone (or is this process under a new token: a restarted container keeps its
pid). Files are written to temporary names and renamed (tenku.video), and a job is marked completed only after
its files exist, so a crash at any point leaves either a re-runnable job or a finished one.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np

from tenku.errors import TenkuError
from tenku.server.errors import ApiError
from tenku.server.generator import GenerationRequest, Generator, ModeUnavailable, fit
from tenku.server.jobs import Job, JobStore
from tenku.server.queues import JobQueue
from tenku.server.settings import ServerSettings
from tenku.server.uploads import VideoLimits, decode_image, decode_video
from tenku.server.webhooks import WebhookSender
from tenku.video import Video, spritesheet, thumbnail, write_image, write_video

log = logging.getLogger("tenku.server.worker")

# where sampling progress lands in the 0..100 the API reports (loading inputs before, encoding after)
SAMPLING_START, SAMPLING_END = 5, 90
JANITOR_EVERY_S = 2.0
# variant -> (file name, media type); the thumbnail is WebP and the spritesheet JPEG, as Sora serves them
VARIANTS = {
    "video": ("video.mp4", "video/mp4"),
    "thumbnail": ("thumbnail.webp", "image/webp"),
    "spritesheet": ("spritesheet.jpg", "image/jpeg"),
}


class _Stop(Exception):
    """Raised from the progress callback: the job was cancelled or taken away, or the process is shutting down."""


def video_limits(settings: ServerSettings) -> VideoLimits:
    return VideoLimits(
        max_pixels=settings.max_input_pixels,
        max_seconds=settings.max_input_seconds,
        max_frames=settings.max_input_frames,
        long_side=settings.input_long_side,
    )


def job_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "videos" / job_id


def upload_dir(data_dir: Path, job_id: str) -> Path:
    return data_dir / "uploads" / job_id


class WorkerPool:
    def __init__(
        self,
        settings: ServerSettings,
        store: JobStore,
        queue: JobQueue,
        generator: Generator | None,
        webhooks: WebhookSender | None,
        threads: int,
    ):
        self.settings = settings
        self.data_dir = Path(settings.data_dir)
        self.store = store
        self.queue = queue
        self.generator = generator
        self.webhooks = webhooks
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.worker_ids = [f"{self.host}:{self.pid}:{secrets.token_hex(4)}" for _ in range(threads)]
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.janitor_pass()  # recover before taking new work, so an interrupted job keeps its place
        if self.worker_ids:
            assert self.generator is not None, "worker threads need a generator"
        for wid in self.worker_ids:
            t = threading.Thread(target=self._loop, args=(wid,), name=f"tenku-worker-{wid[-8:]}", daemon=True)
            t.start()
            self._threads.append(t)
        t = threading.Thread(target=self._janitor, name="tenku-janitor", daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop taking jobs; a job being generated is handed back to the queue at its next progress step."""
        self.stopping.set()
        deadline = time.monotonic() + timeout_s
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _loop(self, worker_id: str) -> None:
        while not self.stopping.is_set():
            try:
                job_id = self.queue.get(timeout_s=0.5)
                if job_id is not None:
                    self.run(job_id, worker_id)
            except Exception:  # the store or queue failed (disk full, locked): log, wait, keep the thread alive
                log.exception("worker %s: unexpected error", worker_id)
                self.stopping.wait(1.0)

    def _janitor(self) -> None:
        while not self.stopping.wait(JANITOR_EVERY_S):
            try:
                self.janitor_pass()
            except Exception:
                log.exception("janitor: unexpected error")

    # -- one job ---------------------------------------------------------------------------------------------

    def run(self, job_id: str, worker_id: str) -> None:
        job = self.store.claim(job_id, worker_id)
        if job is None:
            return  # cancelled, deleted, or a duplicate id of a job another worker already took
        log.info("%s: %s started (attempt %d) by %s", job.id, job.kind, job.attempts, worker_id)
        cb = _ProgressReporter(self.store, job.id, worker_id, self.stopping, self.settings.worker_lease_s)
        try:
            request = self.load_request(job)
            cb.report(SAMPLING_START)
            video = self.generator.generate(request, cb.sampling)
            cb.check()
            files = self.deliver(job, request, video)
            cb.check()
        except _Stop:
            cb.close()
            if self.stopping.is_set() and self.store.release(job.id, worker_id):
                self.queue.put(job.id)
                log.info("%s: handed back to the queue (shutting down)", job.id)
            shutil.rmtree(job_dir(self.data_dir, job.id), ignore_errors=True)
            return
        except ModeUnavailable as e:
            self._fail(job, worker_id, cb, "mode_unavailable", str(e))
            return
        except (TenkuError, ApiError) as e:  # an input that decoded at upload time but not now, a bad prompt
            self._fail(job, worker_id, cb, "invalid_input", e.message if isinstance(e, ApiError) else str(e))
            return
        except Exception as e:
            log.exception("%s: generation failed", job.id)
            self._fail(job, worker_id, cb, "generation_failed", f"Generation failed: {type(e).__name__}: {e}")
            return
        cb.close()
        expires = int(time.time() + self.settings.expire_after_s) if self.settings.expire_after_s else None
        if self.store.complete(job.id, worker_id, files, expires):
            log.info("%s: completed", job.id)
            self._emit("video.completed", job.id)
        else:  # cancelled or taken away while the files were written: they are not ours to keep
            shutil.rmtree(job_dir(self.data_dir, job.id), ignore_errors=True)

    def _fail(self, job: Job, worker_id: str, cb: "_ProgressReporter", code: str, message: str) -> None:
        cb.close()
        shutil.rmtree(job_dir(self.data_dir, job.id), ignore_errors=True)
        if self.store.fail(job.id, worker_id, {"code": code, "message": message}):
            log.info("%s: failed: %s", job.id, message)
            self._emit("video.failed", job.id)

    def _emit(self, type: str, job_id: str) -> None:
        if self.webhooks is not None:
            try:
                self.webhooks.emit(type, job_id)
            except Exception:  # a webhook is a notification: never let it change the job's outcome
                log.exception("%s: could not queue the %s webhook", job_id, type)

    def load_request(self, job: Job) -> GenerationRequest:
        """The job's parameters with its input files decoded (uploaded inputs were checked at request time)."""
        p = job.params
        fps = self.generator.fps
        limits = video_limits(self.settings)
        inputs = {k: self.data_dir / v for k, v in p.get("inputs", {}).items()}

        def clip(name: str) -> Video | None:
            if name not in inputs:
                return None
            if p["input_kinds"][name] == "image":
                img = decode_image(inputs[name].read_bytes(), max_pixels=self.settings.max_image_pixels, param=name)
                return Video(frames=img[None], fps=float(fps))
            return decode_video(inputs[name], limits=limits, param=name, fps=fps)

        image = None
        if "image" in inputs:
            image = decode_image(inputs["image"].read_bytes(), max_pixels=self.settings.max_image_pixels, param="image")
        width, height = (int(v) for v in job.size.split("x"))
        # a storyboard's job.prompt is its shots joined for display; the pipeline gets the shared prompt
        prompt = p.get("storyboard_prompt", "") if job.kind == "storyboard" else job.prompt or ""
        return GenerationRequest(
            kind=job.kind,
            prompt=prompt,
            seconds=float(p["seconds"]),
            width=width,
            height=height,
            fps=fps,
            seed=int(p["seed"]),
            steps=p.get("steps"),
            guidance=p.get("guidance"),
            negative_prompt=p.get("negative_prompt"),
            image=image,
            video=clip("video"),
            end=clip("end"),
            shots=[(s["prompt"], float(s["seconds"])) for s in p.get("shots", [])],
            strength=p.get("strength"),
        )

    def deliver(self, job: Job, request: GenerationRequest, video: Video) -> dict[str, str]:
        """Trim to the job's length, resize to the requested size, write mp4 + thumbnail + spritesheet; returns
        the files as paths relative to the data dir. What the generator returned is the whole video (for an
        extension: the source and its continuation, stitched by the pipeline), so nothing is stitched here."""
        frames = np.asarray(video.frames)
        n = max(1, round(float(job.params.get("total_seconds", request.seconds)) * video.fps))
        if frames.shape[0] < n:  # a model's 4k+1 frame rounding can fall a frame or two short: hold the last one
            if n - frames.shape[0] > 4:
                log.warning("%s: the generator returned %d frames for %d; holding the last frame", job.id,
                            frames.shape[0], n)
            frames = np.concatenate([frames, np.repeat(frames[-1:], n - frames.shape[0], 0)])
        frames = fit(frames[:n], request.width, request.height)  # (F, height, width, 3); the model's 4k+1 frames
        # (the VAE's causal layout) are trimmed to the length asked for
        out = job_dir(self.data_dir, job.id)
        comment = f"made by tenku ({self.generator.name}) from the prompt: {(job.prompt or '')[:500]}"
        write_video(out / VARIANTS["video"][0], frames, fps=video.fps, comment=comment)
        write_image(out / VARIANTS["thumbnail"][0], thumbnail(frames))
        tile = min(request.width, 256)
        write_image(out / VARIANTS["spritesheet"][0], spritesheet(frames, count=16, columns=4, tile_width=tile))
        return {k: str((out / name).relative_to(self.data_dir)) for k, (name, _) in VARIANTS.items()}

    # -- recovery --------------------------------------------------------------------------------------------

    def janitor_pass(self) -> None:
        s = self.settings
        for job in self.store.in_progress():
            if job.worker in self.worker_ids or not self._worker_dead(job):
                continue
            if job.attempts < s.job_max_attempts:
                if self.store.reclaim(job.id, job.worker, None):
                    self.queue.put(job.id)
                    log.warning("%s: worker %s is gone; queued again (attempt %d of %d was interrupted)",
                                job.id, job.worker, job.attempts, s.job_max_attempts)
            else:
                message = (
                    f"The worker generating this video stopped unexpectedly (the server was killed or crashed) "
                    f"{job.attempts} times; gave up after {s.job_max_attempts} attempts."
                )
                if self.store.reclaim(job.id, job.worker, {"code": "worker_lost", "message": message}):
                    log.warning("%s: %s", job.id, message)
                    self._emit("video.failed", job.id)
        queued = self.store.queued_ids()  # read before `pending` so that a job created in between is not doubled
        if queued:
            pending = self.queue.pending()
            for job_id in queued:
                if job_id not in pending:
                    self.queue.put(job_id)  # a duplicate is harmless: claim() is a compare-and-set
        if s.expire_after_s:
            for job in self.store.expired(int(time.time())):
                self.store.clear_files(job.id)  # first: a download from now on is a clean 404, not a missing file
                for rel in job.files.values():
                    (self.data_dir / rel).unlink(missing_ok=True)
                shutil.rmtree(job_dir(self.data_dir, job.id), ignore_errors=True)

    def _worker_dead(self, job: Job) -> bool:
        if job.heartbeat_at is None or time.time() - job.heartbeat_at > self.settings.worker_lease_s:
            return True
        try:
            host, pid, _token = job.worker.rsplit(":", 2)
            pid_n = int(pid)
        except (AttributeError, ValueError):
            return True
        if host != self.host:
            return False  # another machine: only its heartbeat can tell
        if pid_n == self.pid:
            return True  # this process, under a token that is not one of ours: an earlier life of this pid
        try:
            os.kill(pid_n, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass
        return False


class _ProgressReporter:
    """Turns sampling steps into the job's `progress`, keeps its heartbeat fresh from a side thread (one sampling
    step can take longer than the lease), and stops the generation when the job is cancelled or reclaimed."""

    def __init__(self, store: JobStore, job_id: str, worker_id: str, stopping: threading.Event, lease_s: float):
        self.store, self.job_id, self.worker_id, self.stopping = store, job_id, worker_id, stopping
        self.progress = 0
        self.lost = False  # cancelled, deleted, or handed to another worker
        self._done = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, args=(min(5.0, lease_s / 4),), daemon=True)
        self._beat.start()

    def _heartbeat(self, every_s: float) -> None:
        while not self._done.wait(every_s):
            self.report(self.progress)

    def report(self, progress: int) -> None:
        self.progress = max(self.progress, int(progress))
        try:
            status = self.store.set_progress(self.job_id, self.worker_id, self.progress)
        except Exception:
            log.exception("%s: could not record progress", self.job_id)
            return
        if status != "in_progress":
            self.lost = True

    def sampling(self, step: int, total: int) -> None:
        """The generator's callback."""
        pct = SAMPLING_START + (SAMPLING_END - SAMPLING_START) * min(step, total) // max(total, 1)
        if pct != self.progress:
            self.report(pct)
        self.check()

    def check(self) -> None:
        if self.lost or self.stopping.is_set():
            raise _Stop()

    def close(self) -> None:
        self._done.set()
