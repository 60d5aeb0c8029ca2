"""The objects one server process shares, built once in `lifespan`, and the FastAPI dependencies that hand them out.

Tests replace any of `get_settings`, `get_services` or `current_owner` through `app.dependency_overrides`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, Request

from tenku.server.auth import KeyRing
from tenku.server.generator import Generator, load_generator
from tenku.server.jobs import JobStore, SqliteJobStore
from tenku.server.queues import HueyQueue, JobQueue
from tenku.server.settings import ServerSettings
from tenku.server.webhooks import WebhookSender
from tenku.server.worker import WorkerPool

log = logging.getLogger("tenku.server")


@dataclass(kw_only=True)
class Services:
    settings: ServerSettings
    store: JobStore
    queue: JobQueue
    generator: Generator | None  # None when this process runs no workers (the model then lives in `tenku worker`s)
    model_name: str
    keys: KeyRing
    webhooks: WebhookSender | None
    pool: WorkerPool

    @property
    def data_dir(self) -> Path:
        return Path(self.settings.data_dir)

    def start(self) -> None:
        if self.webhooks is not None:
            self.webhooks.start()
        self.pool.start()

    def stop(self) -> None:
        self.pool.stop()
        if self.webhooks is not None:
            self.webhooks.stop()


def open_store(settings: ServerSettings) -> tuple[SqliteJobStore, HueyQueue]:
    """The embedded backends: the job table and the Huey queue, two SQLite files in the data dir."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteJobStore(data_dir / "tenku.db"), HueyQueue.sqlite(data_dir / "queue.db")


def make_webhooks(settings: ServerSettings, store: JobStore) -> WebhookSender | None:
    if not settings.webhook_urls:
        return None
    return WebhookSender(
        store,
        settings.webhook_urls,
        settings.webhook_secret,
        max_attempts=settings.webhook_max_attempts,
        backoff_s=settings.webhook_backoff_s,
        timeout_s=settings.webhook_timeout_s,
    )


def build_services(settings: ServerSettings, generator: Generator | None = None) -> Services:
    """Open the store and queue, load the model (blocking: call it from a thread), and wire the workers."""
    keys = KeyRing(settings.load_api_keys())
    store, queue = open_store(settings)
    if generator is None and settings.workers_in_process > 0:
        generator = load_generator(settings)
    webhooks = make_webhooks(settings, store)
    pool = WorkerPool(settings, store, queue, generator, webhooks, threads=settings.workers_in_process)
    name = generator.name if generator is not None else settings.resolved_model_name()
    return Services(
        settings=settings, store=store, queue=queue, generator=generator, model_name=name, keys=keys,
        webhooks=webhooks, pool=pool,
    )


# -- dependencies ------------------------------------------------------------------------------------------------
# `async def` although they never await: they do not block (no I/O, one SHA-256), and FastAPI runs a plain `def`
# dependency in the thread pool, a hop that costs more than the work (benchmarks/server_latency.py).


async def get_services(request: Request) -> Services:
    return request.app.state.services


async def get_settings(services: Services = Depends(get_services)) -> ServerSettings:
    return services.settings


async def current_owner(request: Request, services: Services = Depends(get_services)) -> str:
    return services.keys.owner(request.headers.get("authorization"))


def run_workers(settings: ServerSettings) -> None:
    """`tenku worker`: worker threads (and a webhook sender) on the shared data dir until SIGINT or SIGTERM; a job
    being generated at that moment goes back to the queue for another worker."""
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    services = build_services(settings)
    services.start()
    log.info("worker threads %s on %s", services.pool.worker_ids, settings.data_dir)
    stop.wait()
    services.stop()
