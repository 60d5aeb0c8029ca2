"""A fast stand-in for the model: deterministic colour patterns, every mode, no weights.

Used by the tests (no trained model needed) and by `tenku serve --generator fake` to try the API. The prompt and
seed choose the colours; a bright disc moves across a gradient so that motion, loops and stitching are visible.
It reports `steps` sampling steps through `progress` and can sleep `step_s` per step to act like a slow model.
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from tenku.server.generator import GenerationRequest, Progress, fit
from tenku.video import Video

LONG_SIDE = 64  # working resolution, like the small model's


class FakeGenerator:
    def __init__(self, name: str = "tenku-fake", fps: int = 8, steps: int = 8, step_s: float = 0.0):
        self.name = name
        self.fps = fps
        self.steps = steps
        self.step_s = step_s

    def unavailable(self, mode: str) -> str | None:
        return None

    def generate(self, request: GenerationRequest, progress: Progress) -> Video:
        r = request
        steps = r.steps or self.steps
        for i in range(steps):  # "sampling"
            if self.step_s:
                time.sleep(self.step_s)
            progress(i + 1, steps)
        w, h = _working_size(r.width, r.height)
        n = max(1, round(r.seconds * self.fps))
        if r.mode == "storyboard":
            parts = [_pattern(p, r.seed + k, max(1, round(s * self.fps)), w, h) for k, (p, s) in enumerate(r.shots)]
            frames = np.concatenate(parts)
        elif r.mode == "loop":
            frames = _pattern(r.prompt, r.seed, n, w, h, loop=True)
        elif r.mode in ("remix", "edit"):
            src = fit(r.video.frames, w, h)
            tint = _pattern(r.prompt, r.seed, src.shape[0], w, h)
            frames = _blend(src, tint, 0.5)
        elif r.mode == "extension":
            last = fit(r.video.frames[-1:], w, h)
            frames = _blend(np.repeat(last, n, 0), _pattern(r.prompt, r.seed, n, w, h), np.linspace(0.1, 0.8, n))
        elif r.mode == "connection":
            a, b = fit(r.video.frames[-1:], w, h), fit(r.end.frames[:1], w, h)
            frames = _blend(np.repeat(a, n, 0), np.repeat(b, n, 0), np.linspace(0.0, 1.0, n))
        else:  # text-to-video, image-to-video
            frames = _pattern(r.prompt, r.seed, n, w, h)
            if r.image is not None:
                img = fit(r.image[None], w, h)
                frames = _blend(np.repeat(img, n, 0), frames, np.linspace(0.0, 0.7, n))
        return Video(frames=frames, fps=float(self.fps), comment=f"tenku fake generator: {r.prompt[:200]}")


def _working_size(width: int, height: int) -> tuple[int, int]:
    scale = LONG_SIDE / max(width, height)
    return max(2, round(width * scale)), max(2, round(height * scale))


def _pattern(prompt: str, seed: int, n: int, w: int, h: int, loop: bool = False) -> np.ndarray:
    """(n, h, w, 3) uint8: a gradient in prompt-chosen colours and a disc that crosses it (or circles, for loops)."""
    digest = hashlib.sha256(f"{prompt}\0{seed}".encode()).digest()
    c0, c1, disc = (np.frombuffer(digest[i : i + 3], np.uint8).astype(np.float32) for i in (0, 3, 6))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    g = (xx / max(w - 1, 1))[..., None]
    base = c0 * (1 - g) + c1 * g  # (h, w, 3)
    frames = np.empty((n, h, w, 3), np.uint8)
    radius = max(2.0, min(w, h) / 6)
    for i in range(n):
        phase = i / n
        if loop:
            cx = w / 2 + w / 3 * np.cos(2 * np.pi * phase)
            cy = h / 2 + h / 3 * np.sin(2 * np.pi * phase)
        else:
            cx, cy = radius + (w - 2 * radius) * phase, h / 2
        inside = ((xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2)[..., None]
        frames[i] = np.where(inside, 255 - disc, base).astype(np.uint8)
    return frames


def _blend(a: np.ndarray, b: np.ndarray, t) -> np.ndarray:
    t = np.asarray(t, np.float32).reshape(-1, 1, 1, 1) if np.ndim(t) else np.float32(t)
    return (a.astype(np.float32) * (1 - t) + b.astype(np.float32) * t).round().astype(np.uint8)
