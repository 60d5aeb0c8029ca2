"""Helpers for the server tests (imported by conftest.py and the tests): a real uvicorn server on 127.0.0.1 in a
thread, a fake generator that can be slowed per prompt, a tiny webhook receiver, and small media files."""

from __future__ import annotations

import base64
import http.server
import io
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from tenku.server.fake import FakeGenerator, FakePipeline
from tenku.server.generator import GenerationRequest, PipelineGenerator, Progress
from tenku.server.settings import ServerSettings

KEY_A, KEY_B, KEY_C = "sk-tenku-test-a-0001", "sk-tenku-test-b-0002", "sk-tenku-test-c-0003"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"tenku-test-webhook-secret-32byte").decode()


class PacedFake(FakeGenerator):
    """The fake generator, slowed by a `pace=SECONDS` token in the prompt (seconds per sampling step), so one server
    serves both instant jobs and jobs slow enough to cancel or watch; a prompt containing `explode` fails."""

    def generate(self, request: GenerationRequest, progress: Progress):
        if "explode" in request.prompt:
            raise RuntimeError("the fake generator was asked to explode")
        m = re.search(r"pace=([\d.]+)", request.prompt)
        if m:
            pace = float(m.group(1))

            def slow(step: int, total: int) -> None:
                time.sleep(pace)
                progress(step, total)

            return super().generate(request, slow)
        return super().generate(request, progress)


class RecordingPipeline(FakePipeline):
    """A stand-in for `tenku.pipeline.Pipeline`: its mode methods with their exact signatures, in numpy (the fake
    pipeline), recording each call as (method, prompt, kwargs) so tests can check what the adapter passed."""

    MODES = ("__call__", "image_to_video", "extend", "loop", "connect", "remix", "edit", "storyboard")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls: list[tuple[str, str, dict]] = []
        self.lock = threading.Lock()

    def last(self, method: str) -> tuple[str, dict]:
        with self.lock:
            for name, prompt, kw in reversed(self.calls):
                if name == method:
                    return prompt, kw
        raise AssertionError(f"{method} was never called; calls: {[c[0] for c in self.calls]}")


def _recorded(name: str):
    def method(self, prompt="", **kw):
        with self.lock:
            self.calls.append((name, prompt, kw))
        return getattr(FakePipeline, name)(self, prompt, **kw)

    method.__name__ = name
    return method


for _name in RecordingPipeline.MODES:
    setattr(RecordingPipeline, _name, _recorded(_name))


def recording_generator(**kw) -> tuple[PipelineGenerator, RecordingPipeline]:
    pipe = RecordingPipeline(**kw)
    return PipelineGenerator(pipe, "tiny", fps=pipe.fps, long_side=64), pipe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningServer:
    app: object
    base_url: str  # "http://127.0.0.1:PORT/v1"
    settings: ServerSettings
    server: object = None
    thread: threading.Thread | None = None

    def client(self, key: str = KEY_A, **kw):
        import openai

        return openai.OpenAI(api_key=key, base_url=self.base_url, max_retries=0, timeout=30, **kw)

    @property
    def services(self):
        return self.app.state.services

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_server(settings: ServerSettings, generator=None) -> RunningServer:
    import uvicorn

    from tenku.server.app import create_app

    app = create_app(settings, generator=generator)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return RunningServer(app=app, base_url=f"http://127.0.0.1:{port}/v1", settings=settings, server=server,
                         thread=thread)


@dataclass
class Receiver:
    """Records the webhooks it receives; answers 500 to the first `fail_first` requests."""

    url: str = ""
    events: list[tuple[dict, bytes]] = field(default_factory=list)  # (headers, raw body)
    fail_first: int = 0
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, video_id: str, type: str, timeout_s: float = 20.0) -> tuple[dict, bytes]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                for headers, body in self.events:
                    data = json.loads(body)
                    if data["data"]["id"] == video_id and data["type"] == type:
                        return headers, body
            time.sleep(0.05)
        raise AssertionError(f"no {type} webhook for {video_id}; got {[json.loads(b) for _, b in self.events]}")


def start_receiver() -> tuple[Receiver, http.server.ThreadingHTTPServer]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with state.lock:
                state.hits += 1
                failing = state.hits <= state.fail_first
                if not failing:
                    state.events.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(500 if failing else 200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/tenku"
    return state, httpd


def make_png(w: int = 96, h: int = 64, color=(200, 40, 40)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, format="PNG")
    return buf.getvalue()


def make_mp4(path, frames: int = 16, w: int = 96, h: int = 64, fps: int = 8, middle_color=None):
    """A moving gradient; with `middle_color`, the middle half of the frames is that flat colour instead."""
    import numpy as np

    from tenku.video import write_video

    yy, xx = np.mgrid[0:h, 0:w]
    clip = np.zeros((frames, h, w, 3), np.uint8)
    for i in range(frames):
        clip[i, ..., 0] = (xx * 255 // w).astype(np.uint8)
        clip[i, ..., 1] = (yy * 255 // h).astype(np.uint8)
        clip[i, :, (i * 4) % w : (i * 4) % w + 8, 2] = 255
    if middle_color is not None:
        clip[frames // 4 : (3 * frames) // 4] = middle_color
    return write_video(path, clip, fps=fps)
