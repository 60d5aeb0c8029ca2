"""Fixtures for the server tests: the shared server (real uvicorn on 127.0.0.1, fake generator, keys A/B/C,
webhooks to a local receiver), extra servers on demand, and the real `openai` client. No model, no network."""

from __future__ import annotations

import warnings

import pytest
from server_helpers import KEY_A, KEY_B, KEY_C, WEBHOOK_SECRET, PacedFake, RunningServer, start_receiver, start_server

from tenku.server.settings import ServerSettings


@pytest.fixture(autouse=True)
def _quiet_sora_deprecation():
    # openai 3.x marks every videos.* method deprecated (the Sora API shuts down): the calls still work
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.fixture(scope="session")
def receiver():
    state, httpd = start_receiver()
    yield state
    httpd.shutdown()


@pytest.fixture(scope="session")
def server(tmp_path_factory, receiver):
    """One server for most tests: keys A, B and C, webhooks to `receiver`, an instant (or paced) fake generator,
    a 2 MiB upload limit so that oversize bodies are cheap to send."""
    settings = ServerSettings(
        data_dir=tmp_path_factory.mktemp("tenku-data"),
        generator="fake",
        api_keys=[KEY_A, KEY_B, KEY_C],
        poll_after_ms=20,
        webhook_urls=[receiver.url],
        webhook_secret=WEBHOOK_SECRET,
        webhook_backoff_s=0.2,
        max_upload_mb=2,
        max_image_pixels=2000 * 2000,
        workers_in_process=2,
    )
    srv = start_server(settings, generator=PacedFake())
    yield srv
    srv.stop()


@pytest.fixture
def client(server):
    return server.client(KEY_A)


@pytest.fixture
def make_server(tmp_path):
    """Start extra servers with their own settings; all stopped at the end of the test."""
    started: list[RunningServer] = []

    def make(gen=None, **overrides) -> RunningServer:
        opts = dict(data_dir=tmp_path / f"data{len(started)}", generator="fake", poll_after_ms=20)
        opts.update(overrides)
        # `gen`: a Generator object; without one the fake (or what the settings' `generator` names)
        if gen is None and opts["generator"] == "fake":
            gen = PacedFake()
        srv = start_server(ServerSettings(**opts), generator=gen)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()
