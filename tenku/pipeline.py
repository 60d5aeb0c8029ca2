"""Inference: prompt -> video. Every creative mode goes through `Pipeline._generate`.

    pipe = Pipeline.from_pretrained("runs/dit")            # or None: the shipped tenku/weights/tenku-world
    video = pipe("a red ball bounces on grass", seconds=2, size=(64, 64), seed=0)
    video.save("out.mp4"); print(video.notes)

Input rules (checked in step 1, never silently):
  - frames = seconds * fps rounded to the nearest 4k + 1 (the VAE's causal layout), with a note when it changes;
  - width and height are rounded to the nearest multiple of 8 x the DiT's spatial patch (16 for the presets),
    with a note; sizes below one multiple or above `MAX_SIDE` are refused, naming the valid range;
  - an empty prompt is refused (use guidance with a negative prompt to steer away from things instead);
    a prompt longer than the text encoder's `max_tokens` is truncated, with a note naming where it was cut.
Notes are collected on the returned video (`video.notes`) and logged to the `tenku.pipeline` logger.

Same seed, same video: the initial noise is drawn on the CPU from `torch.Generator().manual_seed(seed)` and then
moved to the device, so a seed means the same noise on every machine (as diffusers' `randn_tensor` does).

The creative modes (tenku/modes.py) hold chosen latent frames clean or start part-way: image-to-video, extend,
loop, connect and storyboard pass `known` latents with a `known_mask` over latent frames; remix passes `init` latents
and `t_start` < 1 (SDEdit, Meng et al. 2022). All reuse steps 2-5 through `_generate` and `decode`. Videos longer
than the model's window (`window_frames`) are made by rolling windows, each conditioned on the end of the last.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor

from tenku import modes
from tenku.checkpoint import load_component, load_manifest, resolve_checkpoint
from tenku.config import DiTConfig, FlowConfig, SampleConfig, TextConfig, VAEConfig, from_dict
from tenku.errors import CheckpointError, PromptError, TenkuError
from tenku.modes import Card
from tenku.video import Video

logger = logging.getLogger("tenku.pipeline")

DEFAULT_MODEL = Path(__file__).resolve().parent / "weights" / "tenku-world"
MAX_SIDE = 2048  # pixels; far beyond what the presets were trained on, but a guard against typos like 64000
MAX_FRAMES = 1025  # 256 latent frames

HOW_TO_TRAIN = (
    "train one: `tenku train vae --preset vae-world --out runs/vae` then "
    "`tenku train dit --preset dit-world --vae runs/vae --out runs/dit`, and pass --model runs/dit"
)


@dataclass
class GeneratedVideo(Video):
    """A `Video` plus what made it: the notes about adjusted inputs, the prompt and the seed."""

    notes: list[str] = field(default_factory=list)
    prompt: str = ""
    seed: int = 0


def round_frames(seconds: float, fps: float) -> tuple[int, str | None]:
    """seconds * fps -> the nearest frame count of the form 4k + 1 (at least 1), and a note if it changed."""
    want = seconds * fps
    frames = 4 * max(0, math.floor((want - 1) / 4 + 0.5)) + 1  # ties round up
    frames = min(frames, MAX_FRAMES)
    if abs(frames - want) < 1e-6:
        return frames, None
    return frames, (
        f"{seconds:g} s at {fps:g} fps is {want:g} frames; made {frames} ({frames / fps:.3g} s), "
        "since the video VAE needs 4k + 1 frames"
    )


def round_size(width: int, height: int, multiple: int) -> tuple[int, int, str | None]:
    """Round width and height to the nearest multiple of `multiple`; refuse sizes outside [multiple, MAX_SIDE]."""
    for name, v in (("width", width), ("height", height)):
        if v < multiple or v > MAX_SIDE:
            raise TenkuError(f"{name} must be between {multiple} and {MAX_SIDE} pixels, got {v}")
    w, h = (max(multiple, multiple * math.floor(v / multiple + 0.5)) for v in (width, height))  # ties round up
    if (w, h) == (width, height):
        return w, h, None
    return w, h, f"size {width}x{height} rounded to {w}x{h} (this model needs multiples of {multiple})"


class Pipeline:
    """Text -> video with a frozen text encoder, a DiT sampled by rectified flow, and a causal video VAE."""

    def __init__(self, vae, dit, text_encoder, flow, defaults: SampleConfig, device: str | torch.device = "cpu"):
        self.vae, self.dit, self.text_encoder, self.flow = vae, dit, text_encoder, flow
        self.defaults = defaults
        self.device = torch.device(device)
        self.size_multiple = vae.spatial_factor * max(dit.cfg.patch_size[1], dit.cfg.patch_size[2])
        if dit.cfg.text_dim != text_encoder.dim:
            raise CheckpointError(
                f"the DiT expects {dit.cfg.text_dim}-wide text states but the text encoder gives {text_encoder.dim}; "
                "the checkpoint's text entry does not match its DiT"
            )
        if dit.cfg.in_channels != vae.cfg.latent_channels:
            raise CheckpointError(
                f"the DiT works on {dit.cfg.in_channels} latent channels but the VAE has {vae.cfg.latent_channels}; "
                "the checkpoint mixes components from different runs"
            )

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, device: str | torch.device = "cpu") -> "Pipeline":
        """Load a pipeline folder (or a `tenku train dit` --out folder); None loads the shipped default."""
        from tenku.dit import DiT
        from tenku.flow import RectifiedFlow
        from tenku.text import load_text_encoder
        from tenku.vae import VideoVAE

        if path is None:
            if not (DEFAULT_MODEL / "manifest.json").is_file():
                raise CheckpointError(f"no default model is installed at {DEFAULT_MODEL}; {HOW_TO_TRAIN}")
            path = DEFAULT_MODEL
        if isinstance(device, str) and device.startswith("cuda") and not torch.cuda.is_available():
            raise TenkuError(f"device {device!r}: no CUDA device is available here; use cpu")
        root = resolve_checkpoint(path, "dit")
        manifest = load_manifest(root)
        components = manifest["components"]
        for name in ("vae", "dit", "text"):
            if name not in components:
                raise CheckpointError(f"{root}/manifest.json names no {name!r} component; {HOW_TO_TRAIN}")
        vae, _ = load_component(root, "vae", VideoVAE, VAEConfig, device=device)
        dit, _ = load_component(root, "dit", DiT, DiTConfig, device=device)
        text = dict(components["text"])
        sha256 = text.pop("sha256", None)
        text_cfg = _config(TextConfig, text, root, "text")
        encoder = load_text_encoder(text_cfg, device=device, expected_sha256=sha256)
        flow = RectifiedFlow(_config(FlowConfig, components.get("flow", {}), root, "flow"))
        defaults = _config(SampleConfig, manifest.get("sample", {}), root, "sample")
        return cls(vae.requires_grad_(False), dit.requires_grad_(False), encoder, flow, defaults, device=device)

    # --- the steps -------------------------------------------------------------------------------------------

    @torch.no_grad()
    def __call__(
        self,
        prompt: str,
        *,
        seconds: float | None = None,
        size: tuple[int, int] | None = None,
        width: int | None = None,
        height: int | None = None,
        fps: int | None = None,
        seed: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        negative_prompt: str = "",
        callback: Callable[..., None] | None = None,
    ) -> GeneratedVideo:
        """Generate a clip for `prompt`. `size` is (width, height); unset arguments take the checkpoint's defaults.

        Returns a `GeneratedVideo`: frames uint8 (F, H, W, 3), fps, notes. `callback(step, total)` is called after
        every denoising step; beyond one window (`window_frames`) it counts frames made instead, `total` the frames
        to make, so `step / total * seconds` is the seconds done. These keywords are the `**gen` of every mode.
        """
        # 1. check inputs
        req = self.check_inputs(
            prompt, seconds=seconds, size=size, width=width, height=height, fps=fps, seed=seed, steps=steps,
            guidance=guidance, negative_prompt=negative_prompt,
        )
        if req.frames > self.window_frames():  # steps 2-5, window by window (tenku/modes.py)
            frames = np.concatenate(list(modes.generate_long(self, prompt, req, negative_prompt, callback)))
            return self._video(frames, req, prompt)
        # 2. encode text
        text, mask, null_text, null_mask = self.encode_prompt(prompt, negative_prompt, req.notes)
        # 3. prepare latents
        noise = self.prepare_latents(req.frames, req.height, req.width, req.seed)
        # 4. denoise
        latents = self._generate(
            text, mask, null_text, null_mask, noise, steps=req.steps, guidance=req.guidance, callback=callback
        )
        # 5. decode
        return self._video(self.decode(latents)[0], req, prompt)

    def _video(self, frames: np.ndarray, req: "Request", prompt: str) -> GeneratedVideo:
        for note in req.notes:
            logger.info(note)
        comment = f"tenku: {prompt!r}, seed {req.seed}, {req.steps} steps, guidance {req.guidance:g}"
        return GeneratedVideo(frames=frames, fps=req.fps, comment=comment, notes=req.notes, prompt=prompt, seed=req.seed)

    @torch.no_grad()
    def stream(self, prompt: str, **gen: Any) -> Iterator[np.ndarray]:
        """`__call__` as uint8 frame chunks (n, H, W, 3), each yielded once final: a long video is never held whole,
        only the next window's context. Keywords as `__call__`."""
        callback = gen.pop("callback", None)
        req = self.check_inputs(prompt, **gen)
        if req.frames <= self.window_frames():
            yield self(prompt, callback=callback, **gen).frames
            return
        yield from modes.generate_long(self, prompt, req, gen.get("negative_prompt") or "", callback)

    def window_frames(self) -> int:
        """The most frames denoised at once: `window_seconds` (else the training clip's `seconds`) at the
        checkpoint's fps, as 4k + 1, and at least 9 (3 latent frames: context, new, a held end)."""
        d = self.defaults
        frames, _ = round_frames(d.window_seconds or d.seconds, d.fps)
        return max(frames, 2 * self.vae.temporal_factor + 1)

    # --- creative modes: thin wrappers over tenku/modes.py; `**gen` are `__call__`'s keywords ----------------------

    @torch.no_grad()
    def image_to_video(self, prompt: str, *, image: np.ndarray, **gen: Any) -> GeneratedVideo:
        """Animate `image` (uint8 (H, W, 3), any size: centre-cropped to the target aspect and resized, with a
        note): it is the first frame, held clean; the motion follows `prompt`."""
        return modes.image_to_video(self, prompt, image, gen)

    @torch.no_grad()
    def extend(self, prompt: str = "", *, video: Video, seconds: float, backward: bool = False, **gen: Any) -> GeneratedVideo:
        """The whole stitched video: `video` then `seconds` of continuation (backward: what came before, then
        `video`). The input frames come back exactly (resampled to `fps` and fitted to the size first, with
        notes); the new part is conditioned on the input's last (first) latent frames. An empty prompt continues
        unconditionally."""
        return modes.extend(self, prompt, video, seconds, backward, gen)

    @torch.no_grad()
    def loop(self, prompt: str = "", *, image: np.ndarray | None = None, video: Video | None = None,
             **gen: Any) -> GeneratedVideo:
        """A clip whose last frame flows into its first. Without `video`: `seconds` of clip (from `image` if given)
        of which the last third is a bridge; with `video`: that video plus a bridge (`seconds` long, default a
        third of it) from its end back to its start.

        Why a bridge and not denoising with the latent window shifted circularly: the causal VAE's latent 0 is one
        frame and every other latent four, so latent frames cannot be rotated. Bridging instead holds the clip's
        end at the window's start and its first frames at the window's far end, the "both ends" pattern the
        model was trained on (`RectifiedFlow.sample_conditions`)."""
        return modes.loop(self, prompt, image, video, gen)

    @torch.no_grad()
    def connect(self, prompt: str = "", *, video: Video, end: Video, seconds: float, **gen: Any) -> GeneratedVideo:
        """The transition only: `seconds` (a multiple of 4 frames) that start right after `video`'s last frame and
        end right before `end`'s first, so video + transition + end plays as one clip."""
        return modes.connect(self, prompt, video, end, seconds, gen)

    @torch.no_grad()
    def remix(self, prompt: str, *, video: Video, strength: float = 0.6, **gen: Any) -> GeneratedVideo:
        """`video` with `prompt`'s content and the input's layout and motion (SDEdit, Meng et al. 2022): its latents
        are noised part-way and denoised with `prompt`; `strength` is the share of the sampling schedule that runs
        (`modes.Roller.t_start`). 0 returns the input (through the VAE), 1 ignores it. As long as the input; longer
        ones in rolling windows."""
        return modes.remix(self, prompt, video, strength, gen)

    edit = remix

    @torch.no_grad()
    def storyboard(self, prompt: str = "", *, shots: list[tuple[str, float]] | None = None,
                   cards: list[Card] | None = None, image: np.ndarray | None = None, **gen: Any) -> GeneratedVideo:
        """One continuous video through `cards` in order (each a time, a prompt and an optional image held as the
        frame at that time; `tenku.modes.load_board` reads board.json/YAML), or through `shots` (prompt, seconds)
        one after the other. `prompt` stands in for cards without one; `image` is the first card's picture.
        Length: `seconds`, else the shots' total, else the last card's time plus the model's clip length."""
        return modes.storyboard(self, prompt, shots, cards, image, gen)

    @torch.no_grad()
    def image(self, prompt: str, **gen: Any) -> GeneratedVideo:
        """A one-frame video (save it as .png)."""
        return modes.image(self, prompt, gen)

    @torch.no_grad()
    def variations(self, prompt: str, n: int, **gen: Any) -> list[GeneratedVideo]:
        """n videos from seeds seed, seed + 1, ..., denoised `variation_batch` at a time."""
        return modes.variations(self, prompt, n, gen)

    # --- the steps, continued ------------------------------------------------------------------------------------

    def check_inputs(self, prompt: str, *, seconds=None, size=None, width=None, height=None, fps=None, seed=None,
                     steps=None, guidance=None, negative_prompt: str = "", require_prompt: bool = True) -> "Request":
        """Validate and resolve every argument (defaults from the checkpoint); adjusted values come with notes.
        require_prompt=False lets modes conditioned on a video (extend, loop, connect) run with no prompt."""
        d = self.defaults
        if not isinstance(prompt, str) or (require_prompt and not prompt.strip()):
            raise PromptError("the prompt is empty; describe the video, e.g. \"a red ball bounces on grass\"")
        if not isinstance(negative_prompt, str):
            raise PromptError(f"negative_prompt must be a string, got {type(negative_prompt).__name__}")
        seconds = d.seconds if seconds is None else seconds
        fps = d.fps if fps is None else fps
        steps = d.steps if steps is None else steps
        guidance = d.guidance if guidance is None else guidance
        seed = d.seed if seed is None else seed
        if size is not None and (width is not None or height is not None):
            raise TenkuError("give either size=(width, height) or width/height, not both")
        w, h = size if size is not None else (d.width if width is None else width, d.height if height is None else height)
        if not seconds > 0:
            raise TenkuError(f"seconds must be positive, got {seconds}")
        if not fps > 0:
            raise TenkuError(f"fps must be positive, got {fps}")
        if int(steps) != steps or steps < 1:
            raise TenkuError(f"steps must be a positive whole number, got {steps}")
        if not guidance >= 0:
            raise TenkuError(f"guidance must be 0 or more (1 = no guidance), got {guidance}")
        if int(seed) != seed or not 0 <= seed < 2**63:
            raise TenkuError(f"seed must be a whole number in [0, 2^63), got {seed}")
        notes = []
        frames, note = round_frames(seconds, fps)
        if seconds * fps > MAX_FRAMES:
            raise TenkuError(f"{seconds:g} s at {fps:g} fps is more than {MAX_FRAMES} frames; ask for at most {MAX_FRAMES / fps:g} s")
        notes += [note] if note else []
        w, h, note = round_size(int(w), int(h), self.size_multiple)
        notes += [note] if note else []
        return Request(frames=frames, width=w, height=h, fps=fps, seed=int(seed), steps=int(steps), guidance=float(guidance), notes=notes)

    def encode_prompt(self, prompt: str, negative_prompt: str, notes: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(text (1, L, D_text), mask (1, L), null_text, null_mask); truncation notes are appended to `notes`."""
        notes += self.text_encoder.truncation_notes([prompt])
        notes += [n.replace("prompt", "negative prompt", 1) for n in self.text_encoder.truncation_notes([negative_prompt])]
        states, mask = self.text_encoder.encode([prompt, negative_prompt])  # (2, L, D_text), (2, L)
        return states[:1], mask[:1], states[1:], mask[1:]

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(c, f, h, w) of a frames x height x width clip."""
        return self.vae.latent_shape(frames, height, width)

    def prepare_latents(self, frames: int, height: int, width: int, seed: int) -> Tensor:
        """Noise (1, c, f, h, w) from `seed`, drawn on the CPU so a seed means the same video on any device."""
        generator = torch.Generator("cpu").manual_seed(seed)
        noise = torch.randn((1, *self.latent_shape(frames, height, width)), generator=generator)
        return noise.to(self.device)

    def _generate(
        self,
        text: Tensor,
        mask: Tensor,
        null_text: Tensor,
        null_mask: Tensor,
        noise: Tensor,
        *,
        steps: int,
        guidance: float,
        known: Tensor | None = None,
        known_mask: Tensor | None = None,
        t_start: float = 1.0,
        init: Tensor | None = None,
        context_noise: float = 0.0,
        callback: Callable[..., None] | None = None,
    ) -> Tensor:
        """Integrate the flow from noise (or from `init` noised to `t_start`) to normalized latents (1, c, f, h, w).

        known (1, c, f, h, w) + known_mask (1, f) bool: latent frames held clean (conditions: a first image, the
        clip being extended). init: normalized latents of an input video to remix, noised to `t_start` first.
        context_noise: the flow time at which the model sees the held frames (`RectifiedFlow.sample`), noised with
        `noise` itself so the result stays a function of the seed.
        """
        from tenku.flow import noise_to

        x = noise
        if init is not None:
            if not 0.0 < t_start <= 1.0:
                raise TenkuError(f"t_start must be in (0, 1] when remixing, got {t_start}")
            x = noise_to(init, t_start, noise)  # the rectified-flow path at t_start
        return self.flow.sample(
            self.dit, x, text, mask, steps=steps, guidance=guidance, null_text=null_text, null_mask=null_mask,
            known=known, known_mask=known_mask, context_noise=context_noise, context_eps=noise, t_start=t_start,
            callback=callback,
        )

    def encode(self, frames: np.ndarray) -> Tensor:
        """uint8 (F, H, W, 3) -> normalized latent mean (1, c, f, h, w): the conditions of the later modes."""
        x = torch.from_numpy(np.ascontiguousarray(frames)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1.0
        mean, _ = self.vae.encode_video(x.to(self.device))
        return self.vae.normalize(mean)

    def decode(self, latents: Tensor) -> np.ndarray:
        """Normalized latents (B, c, f, h, w) -> uint8 frames (B, F, H, W, 3)."""
        x = self.vae.decode_video(self.vae.denormalize(latents))  # (B, 3, F, H, W)
        x = ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return x.permute(0, 2, 3, 4, 1).cpu().numpy()  # (B, F, H, W, 3)


@dataclass
class Request:
    """Step 1's resolved inputs."""

    frames: int
    width: int
    height: int
    fps: float
    seed: int
    steps: int
    guidance: float
    notes: list[str]


def _config(cls: type, data: dict[str, Any], root: Path, name: str):
    try:
        return from_dict(cls, data)
    except (TenkuError, TypeError) as e:
        raise CheckpointError(f"{root}/manifest.json, {name!r}: {e}; it was written by a different tenku version") from None
