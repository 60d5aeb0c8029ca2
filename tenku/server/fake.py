"""A fast stand-in for the model: `FakePipeline` keeps `tenku.pipeline.Pipeline`'s calling contract for every mode
but draws deterministic colour patterns with numpy, no weights, no torch.

`FakeGenerator` is the real adapter (`PipelineGenerator`) over it, so `tenku serve --generator fake` and the tests
take exactly the path a trained model takes: the same dispatch, the same working size and letterboxed inputs,
and the same return contract (an extension comes back as the whole stitched video, a connection as the transition
only). The prompt and seed choose the colours; a bright disc moves across a gradient so that motion, loops and
stitching are visible. It reports `steps` sampling steps through `callback` and can sleep `step_s` per step to act
like a slow model.

The contract (what `Pipeline` implements; `**gen` = seconds, width, height, fps, seed, steps, guidance,
negative_prompt, callback(step, total)):

    pipe(prompt, **gen)                                         -> the clip
    pipe.image_to_video(prompt, *, image, **gen)                -> the clip, starting on `image`
    pipe.extend(prompt="", *, video, seconds, backward=False, **gen) -> video + continuation (or the reverse)
    pipe.loop(prompt="", *, image=None, video=None, **gen)      -> a clip whose end flows into its start
    pipe.connect(prompt="", *, video, end, seconds, **gen)      -> the transition from `video` to `end` only
    pipe.remix(prompt, *, video, strength=0.6, **gen)           -> `video` re-imagined, same length (edit: alias)
    pipe.storyboard(prompt="", *, shots, image=None, **gen)     -> the shots [(prompt, seconds)], one after another
"""

from __future__ import annotations

import hashlib
import time
from typing import Callable

import numpy as np

from tenku.server.generator import PipelineGenerator, fit
from tenku.video import Video

LONG_SIDE = 64  # working resolution, like the small model's
MULTIPLE = 16  # working sizes are multiples of this, like the model's (VAE 8x times patch 2)


class FakePipeline:
    """`tenku.pipeline.Pipeline`'s mode methods in numpy. Inputs arrive at the working size (the adapter
    letterboxes them); any other size is fitted, so it can also be called directly."""

    def __init__(self, fps: int = 8, steps: int = 8, step_s: float = 0.0):
        self.fps = fps
        self.steps = steps
        self.step_s = step_s

    # -- the modes -------------------------------------------------------------------------------------------

    def __call__(self, prompt: str, **gen) -> Video:
        g = self._gen(prompt, **gen)
        return self._out(prompt, _pattern(prompt, g.seed, g.frames, g.width, g.height), g)

    def image_to_video(self, prompt: str, *, image: np.ndarray, **gen) -> Video:
        g = self._gen(prompt, **gen)
        img = fit(image[None], g.width, g.height)
        frames = _blend(np.repeat(img, g.frames, 0), _pattern(prompt, g.seed, g.frames, g.width, g.height),
                        np.linspace(0.0, 0.7, g.frames))
        return self._out(prompt, frames, g)

    def extend(self, prompt: str = "", *, video: Video, seconds: float, backward: bool = False, **gen) -> Video:
        g = self._gen(prompt, seconds=seconds, require_prompt=False, **gen)
        src = fit(video.frames, g.width, g.height)
        edge = src[:1] if backward else src[-1:]
        new = _blend(np.repeat(edge, g.frames, 0), _pattern(prompt, g.seed, g.frames, g.width, g.height),
                     np.linspace(0.1, 0.8, g.frames))
        frames = np.concatenate([new[::-1], src] if backward else [src, new])  # the whole stitched video
        return self._out(prompt, frames, g)

    def loop(self, prompt: str = "", *, image: np.ndarray | None = None, video: Video | None = None, **gen) -> Video:
        g = self._gen(prompt, require_prompt=False, **gen)
        frames = _pattern(prompt, g.seed, g.frames, g.width, g.height, loop=True)
        start = image[None] if image is not None else (video.frames[-1:] if video is not None else None)
        if start is not None:  # the given frame at both ends: weight 0 at the start, back towards 0 at the end
            t = 0.35 * (1 - np.cos(2 * np.pi * np.arange(g.frames) / g.frames))
            frames = _blend(np.repeat(fit(start, g.width, g.height), g.frames, 0), frames, t)
        return self._out(prompt, frames, g)

    def connect(self, prompt: str = "", *, video: Video, end: Video, seconds: float, **gen) -> Video:
        g = self._gen(prompt, seconds=seconds, require_prompt=False, **gen)
        a, b = fit(video.frames[-1:], g.width, g.height), fit(end.frames[:1], g.width, g.height)
        frames = _blend(np.repeat(a, g.frames, 0), np.repeat(b, g.frames, 0), np.linspace(0.0, 1.0, g.frames))
        return self._out(prompt, frames, g)

    def remix(self, prompt: str, *, video: Video, strength: float = 0.6, **gen) -> Video:
        g = self._gen(prompt, **gen)
        src = fit(video.frames, g.width, g.height)
        frames = _blend(src, _pattern(prompt, g.seed, src.shape[0], g.width, g.height), strength)
        return self._out(prompt, frames, g)

    edit = remix

    def storyboard(self, prompt: str = "", *, shots: list[tuple[str, float]], image: np.ndarray | None = None,
                   **gen) -> Video:
        if not shots:
            raise ValueError("a storyboard needs at least one shot")
        g = self._gen(prompt, seconds=sum(s for _, s in shots), require_prompt=False, **gen)
        parts = [_pattern(f"{prompt} {p}".strip(), g.seed + k, max(1, round(s * g.fps)), g.width, g.height)
                 for k, (p, s) in enumerate(shots)]
        if image is not None:
            n = parts[0].shape[0]
            parts[0] = _blend(np.repeat(fit(image[None], g.width, g.height), n, 0), parts[0], np.linspace(0, 0.7, n))
        return self._out(prompt, np.concatenate(parts), g)

    # -- shared ----------------------------------------------------------------------------------------------

    def _gen(self, prompt: str, *, seconds: float, width: int, height: int, fps: float | None = None, seed: int = 0,
             steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
             callback: Callable[[int, int], None] | None = None, require_prompt: bool = True) -> "_Gen":
        """The common keyword arguments, exactly the contract's (anything else is a TypeError, as in Pipeline);
        then the "sampling": `steps` callbacks. Modes conditioned on a video may run without a prompt."""
        if not isinstance(prompt, str) or (require_prompt and not prompt.strip()):
            from tenku.errors import PromptError

            raise PromptError("the prompt is empty; describe the video, e.g. \"a red ball bounces on grass\"")
        fps = fps or self.fps
        steps = steps or self.steps
        for i in range(steps):
            self.sample_step()
            if callback is not None:
                callback(i + 1, steps)
        return _Gen(frames=max(1, round(seconds * fps)), width=width, height=height, fps=fps, seed=seed)

    def sample_step(self) -> None:
        """One "denoising step": a sleep of `step_s` (a subclass may burn CPU instead, as benchmarks do)."""
        if self.step_s:
            time.sleep(self.step_s)

    def _out(self, prompt: str, frames: np.ndarray, g: "_Gen") -> Video:
        return Video(frames=frames, fps=float(g.fps), comment=f"tenku fake pipeline: {prompt[:200]}")


class _Gen:
    def __init__(self, frames: int, width: int, height: int, fps: float, seed: int):
        self.frames, self.width, self.height, self.fps, self.seed = frames, width, height, fps, seed


class FakeGenerator(PipelineGenerator):
    """The pipeline adapter over `FakePipeline`: every mode, instantly (or `step_s` per step)."""

    def __init__(self, name: str = "tenku-fake", fps: int = 8, steps: int = 8, step_s: float = 0.0):
        super().__init__(FakePipeline(fps=fps, steps=steps, step_s=step_s), name, fps=fps, long_side=LONG_SIDE,
                         multiple=MULTIPLE)


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
