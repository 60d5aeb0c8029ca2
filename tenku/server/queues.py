"""The job queue: moves job ids from the API to the workers, nothing else.

`HueyQueue` keeps the ids in Huey's storage (`SqliteHuey` in the data dir by default; `RedisHuey` or
`PostgresHuey` drop in for a multi-host deployment). Workers do not run Huey's consumer: they pop an id, claim the
job in the job store (a compare-and-set, so a duplicate id is harmless) and run it themselves. That keeps the
state of a job in one place (jobs.py) and lets the server re-enqueue freely when it recovers from a crash.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Protocol


class JobQueue(Protocol):
    def put(self, job_id: str) -> None: ...
    def get(self, timeout_s: float) -> str | None: ...
    def pending(self) -> set[str]: ...


class HueyQueue:
    """A `JobQueue` on a Huey instance. `get` polls storage (Sqlite has no blocking pop); a `put` in the same
    process wakes a waiting `get` at once, other processes notice within `poll_s`."""

    TASK_NAME = "tenku.run_job"

    def __init__(self, huey, poll_s: float = 0.25):
        self.huey = huey
        self.poll_s = poll_s
        self._wake = threading.Event()

        @huey.task(name=self.TASK_NAME)
        def run_job(job_id: str) -> None:  # pragma: no cover - never executed, only (de)serialized
            raise RuntimeError("tenku jobs run in tenku.server.worker, not in Huey's consumer")

        self._task = run_job

    @classmethod
    def sqlite(cls, path: str | Path, poll_s: float = 0.25) -> "HueyQueue":
        from huey import SqliteHuey

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return cls(SqliteHuey(name="tenku", filename=str(path), results=False, timeout=30), poll_s=poll_s)

    def put(self, job_id: str) -> None:
        self.huey.enqueue(self._task.s(job_id))
        self._wake.set()

    def get(self, timeout_s: float) -> str | None:
        deadline = time.monotonic() + timeout_s
        while True:
            task = self.huey.dequeue()
            if task is not None:
                return task.args[0]
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self._wake.wait(min(self.poll_s, left))
            self._wake.clear()

    def pending(self) -> set[str]:
        return {t.args[0] for t in self.huey.pending()}
