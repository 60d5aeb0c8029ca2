"""What a worker calls to make a video: the `Generator` protocol, its request, and the adapter over the pipeline.

A worker turns a job into a `GenerationRequest` (inputs decoded to frames) and calls
`generator.generate(request, progress)`. The generator may work at its own resolution; the worker centre-crops to
the requested aspect ratio and resizes to the requested size afterwards, so a small model still delivers the
1280x720 file a Sora client asked for.

Modes, by job kind, and the `tenku.pipeline.Pipeline` call each one makes (`**gen` = seconds, width, height, fps,
seed, steps, guidance, negative_prompt, callback):

| mode           | job kind   | call                                             | returns                          |
|----------------|------------|--------------------------------------------------|----------------------------------|
| text-to-video  | create     | `pipe(prompt, **gen)`                            | the clip                         |
| image-to-video | create     | `pipe.image_to_video(prompt, image=, **gen)`     | the clip, starting on the image  |
| remix          | remix      | `pipe.remix(prompt, video=, [strength=], **gen)` | the clip, same length            |
| edit           | edit       | `pipe.edit(prompt, video=, [strength=], **gen)`  | the clip, same length            |
| extension      | extension  | `pipe.extend(prompt, video=, seconds=, **gen)`   | the WHOLE video: input + new part|
| loop           | loop       | `pipe.loop(prompt, image=, **gen)`               | its end flows into its start     |
| connection     | connection | `pipe.connect(prompt, video=, end=, **gen)`      | the transition only              |
| storyboard     | storyboard | `pipe.storyboard(prompt, shots=, image=, **gen)` | the shots, one after the other   |

A create, loop or storyboard job gets its `image` from `input_reference` or, when its prompt names one of the
owner's characters, from that character's reference frame (intake.py): a character conditions later prompts
through image-to-video.
The worker delivers what the generator returns, trimmed to the job's total length: it never stitches an
extension itself (the pipeline already returned the stitched whole).

`PipelineGenerator` reports a mode whose method does not exist on the loaded pipeline as "not available in this
model yet" (at request time as a 400, and in the worker as a failed job); `FakeGenerator` (fake.py) is this same
adapter over a numpy stand-in with the same contract, so the tests exercise the real dispatch.
Nothing here imports torch: the pipeline is imported when a model is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

import numpy as np

from tenku.errors import TenkuError
from tenku.video import Video

Progress = Callable[[int, int], None]  # (step, total) while sampling; may raise to stop the generation

# mode -> the Pipeline method that implements it ("__call__": the pipeline itself)
PIPELINE_METHODS = {
    "text-to-video": "__call__",
    "image-to-video": "image_to_video",
    "remix": "remix",
    "edit": "edit",
    "extension": "extend",
    "loop": "loop",
    "connection": "connect",
    "storyboard": "storyboard",
}


class ModeUnavailable(TenkuError):
    """The loaded model cannot do this kind of generation (yet)."""


@dataclass(kw_only=True)
class GenerationRequest:
    kind: str  # create | remix | edit | extension | loop | connection | storyboard
    prompt: str  # storyboard: the prompt shared by every shot ("" for none)
    seconds: float  # length to generate (for an extension: the continuation only; storyboard: the shots' sum)
    width: int  # the delivered size; the generator may work smaller at the same aspect ratio
    height: int
    fps: int
    seed: int
    steps: int | None = None  # None: the model's default
    guidance: float | None = None
    negative_prompt: str | None = None
    image: np.ndarray | None = None  # uint8 (H, W, 3): input_reference, the first frame to start from
    video: Video | None = None  # the source clip (remix, edit, extension) or the start of a connection
    end: Video | None = None  # connection: the clip (one frame for an image) to arrive at
    shots: list[tuple[str, float]] = field(default_factory=list)  # storyboard: (prompt, seconds) in order
    strength: float | None = None  # remix / edit: how far from the source, in (0, 1] (None: the model's default)

    @property
    def mode(self) -> str:
        return mode_of(self.kind, has_image=self.image is not None)


def mode_of(kind: str, has_image: bool) -> str:
    if kind == "create":
        return "image-to-video" if has_image else "text-to-video"
    return kind


class Generator(Protocol):
    name: str  # the local model name listed at GET /v1/models
    fps: int  # frame rate of what it makes; uploaded inputs are resampled to it

    def unavailable(self, mode: str) -> str | None:
        """Why `mode` cannot run on this model, or None when it can."""
        ...

    def generate(self, request: GenerationRequest, progress: Progress) -> Video:
        """Make the video for `request`, calling `progress(step, total)` while sampling."""
        ...


class PipelineGenerator:
    """`Generator` over `tenku.pipeline.Pipeline`: the pipeline itself for text-to-video, one method per other mode
    (see PIPELINE_METHODS), inputs passed by keyword (`image=`, `video=`, `end=`, `shots=`)."""

    def __init__(self, pipe, name: str, fps: int, long_side: int, multiple: int = 16, default_steps: int | None = None):
        self.pipe = pipe
        self.name = name
        self.fps = fps
        self.long_side = long_side  # the model's working resolution (long side, pixels)
        self.multiple = multiple  # working sizes are multiples of this (VAE 8x times patch 2)
        self.default_steps = default_steps

    @classmethod
    def load(cls, path, name: str, device: str = "cpu", default_steps: int | None = None) -> "PipelineGenerator":
        """`Pipeline.from_pretrained(path)` (None: the model shipped in the package); sampling defaults, frame rate
        and size multiple come from the checkpoint."""
        try:
            from tenku.pipeline import Pipeline  # imports torch: only when a model is actually loaded
        except ImportError as e:
            raise TenkuError(
                f"cannot load a model: tenku.pipeline is not importable ({e}); start the server with "
                "--generator fake to try the API without a model"
            ) from None
        from tenku.config import SampleConfig

        pipe = Pipeline.from_pretrained(path, device=device)
        sample = getattr(pipe, "defaults", None) or SampleConfig()
        return cls(pipe, name, fps=int(sample.fps), long_side=max(sample.width, sample.height),
                   multiple=int(getattr(pipe, "size_multiple", 16)), default_steps=default_steps)

    def unavailable(self, mode: str) -> str | None:
        method = PIPELINE_METHODS[mode]
        if method == "__call__" or hasattr(self.pipe, method):
            return None
        return f"mode '{mode}' is not available in this model yet (tenku.pipeline.Pipeline has no '{method}' method)"

    def working_size(self, width: int, height: int) -> tuple[int, int]:
        """The model's size for a requested one: same aspect ratio, long side `long_side`, sides rounded up to
        `multiple` (the worker crops the small excess away before resizing)."""
        scale = self.long_side / max(width, height)
        up = lambda v: max(self.multiple, -(-round(v * scale) // self.multiple) * self.multiple)  # noqa: E731
        return up(width), up(height)

    def generate(self, request: GenerationRequest, progress: Progress) -> Video:
        reason = self.unavailable(request.mode)
        if reason:
            raise ModeUnavailable(reason)
        w, h = self.working_size(request.width, request.height)
        common = dict(seconds=request.seconds, width=w, height=h, fps=self.fps, seed=request.seed, callback=progress)
        steps = request.steps or self.default_steps
        if steps:
            common["steps"] = steps
        if request.guidance is not None:
            common["guidance"] = request.guidance
        if request.negative_prompt:
            common["negative_prompt"] = request.negative_prompt
        method = PIPELINE_METHODS[request.mode]
        if method == "__call__":
            return self.pipe(request.prompt, **common)
        # inputs at the model's working size, letterboxed: the worker's centre crop of the output then keeps
        # exactly the region the inputs filled, so an extension continues the same framing
        image = letterbox(request.image[None], w, h)[0] if request.image is not None else None
        video, end = (Video(frames=letterbox(v.frames, w, h), fps=v.fps) if v is not None else None
                      for v in (request.video, request.end))
        mode = request.mode
        if mode == "image-to-video":
            inputs = {"image": image}
        elif mode in ("remix", "edit"):
            inputs = {"video": video}
            if request.strength is not None:
                inputs["strength"] = request.strength
        elif mode == "extension":  # `seconds` (in common) is the continuation; the result is the stitched whole
            inputs = {"video": video}
        elif mode == "loop":
            inputs = {"image": image}
        elif mode == "connection":
            inputs = {"video": video, "end": end}
        else:  # storyboard: the shots carry the seconds
            inputs = {"shots": list(request.shots), "image": image}
            del common["seconds"]
        return getattr(self.pipe, method)(request.prompt, **inputs, **common)


def fit(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (F, H, W, 3) -> (F, height, width, 3): centre-crop to the target aspect ratio, then resize (bicubic)."""
    from PIL import Image

    f, h, w, _ = frames.shape
    if (w, h) == (width, height):
        return frames
    target = width / height
    if w / h > target:  # too wide: crop the sides
        cw, ch = max(1, round(h * target)), h
    else:  # too tall: crop top and bottom
        cw, ch = w, max(1, round(w / target))
    x0, y0 = (w - cw) // 2, (h - ch) // 2
    out = np.empty((f, height, width, 3), np.uint8)
    for i in range(f):
        im = Image.fromarray(np.ascontiguousarray(frames[i, y0 : y0 + ch, x0 : x0 + cw]))
        out[i] = np.asarray(im.resize((width, height), Image.BICUBIC))
    return out


def letterbox(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """uint8 (F, H, W, 3) -> (F, height, width, 3): scale to fit inside, centre, and fill the margins by repeating
    the edge pixels (the inverse of `fit`'s centre crop)."""
    from PIL import Image

    f, h, w, _ = frames.shape
    scale = min(width / w, height / h)
    sw, sh = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    x0, y0 = (width - sw) // 2, (height - sh) // 2
    out = np.empty((f, height, width, 3), np.uint8)
    for i in range(f):
        im = np.asarray(Image.fromarray(np.ascontiguousarray(frames[i])).resize((sw, sh), Image.BICUBIC))
        out[i] = np.pad(im, ((y0, height - sh - y0), (x0, width - sw - x0), (0, 0)), mode="edge")
    return out


def load_generator(settings) -> Generator:
    """The generator `settings` ask for: the pipeline on `settings.model`, or the fake one."""
    if settings.generator == "fake":
        from tenku.server.fake import FakeGenerator

        return FakeGenerator(
            name=settings.resolved_model_name(), fps=settings.fake_fps, steps=settings.fake_steps,
            step_s=settings.fake_step_s,
        )
    return PipelineGenerator.load(settings.model, settings.resolved_model_name(), device=settings.device,
                                  default_steps=settings.default_steps)
