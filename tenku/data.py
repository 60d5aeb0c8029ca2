"""Training data: clip sources, (frames, height, width) buckets, a deterministic batch schedule, the latent cache.

Sources give clip `i` fitted to a bucket, with its captions:
  - `WorldSource`: the procedural world (`tenku.world.dataset.make_sample`), clip i a function of (seed, i);
  - `FolderSource`: a folder of videos + `captions.jsonl` (lines `{"file": "clips/000001.mp4", "captions": [...]}`,
    as written by `tenku data world`), each clip resampled to the training fps, centre-cropped and resized;
  - `SyntheticSource`: coloured squares sliding across a plain background, for smoke tests and benchmarks.

Buckets let one run train several durations and aspect ratios (Sora, "native aspect ratios"; Open-Sora's bucket
sampler): every batch comes from one bucket, the buckets take turns, and which clips form batch `s` is a pure
function of (seed, s). So the data iterator's position *is* the step, and resuming a run needs nothing but the step.

For the DiT the frozen VAE and text encoder run once: `build_latent_cache` stores each clip's latent mean and
log-variance (safetensors shards keyed by clip index, one folder per bucket) and each distinct caption's token
states, and training samples z ~ N(mean, exp(logvar)) afresh every step (as Stable Diffusion's latent cache does).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F_

from tenku.errors import TenkuError

TEMPORAL_FACTOR = 4  # frames = 4k + 1 (causal VAE: the first frame alone, then groups of 4)
SPATIAL_FACTOR = 8


# --- buckets ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    frames: int  # F
    height: int  # H
    width: int  # W

    def __str__(self) -> str:
        return f"{self.frames}x{self.height}x{self.width}"

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(f, h, w) of this bucket's latents."""
        return ((self.frames - 1) // TEMPORAL_FACTOR + 1, self.height // SPATIAL_FACTOR, self.width // SPATIAL_FACTOR)


def parse_bucket(text: str, multiple: int = SPATIAL_FACTOR) -> Bucket:
    """'FxHxW' -> Bucket, checking F = 4k+1 and H, W multiples of `multiple` (8, or 8 x the DiT's patch)."""
    try:
        f, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise TenkuError(f"a bucket must look like FRAMESxHEIGHTxWIDTH, e.g. 17x64x64, got {text!r}") from None
    if f < 1 or (f - 1) % TEMPORAL_FACTOR:
        k = max(0, math.floor((f - 1) / TEMPORAL_FACTOR + 0.5))
        raise TenkuError(f"bucket {text}: frames - 1 must be divisible by 4, got {f}; use {4 * k + 1}")
    for name, v in (("height", h), ("width", w)):
        if v < multiple or v % multiple:
            near = max(multiple, math.floor(v / multiple + 0.5) * multiple)
            raise TenkuError(f"bucket {text}: {name} must be a positive multiple of {multiple}, got {v}; use {near}")
    return Bucket(f, h, w)


# --- clip sources ----------------------------------------------------------------------------------------------


@dataclass
class Clip:
    frames: np.ndarray  # uint8 (F, H, W, 3), already fitted to the bucket
    captions: list[str]  # one or more; training picks one per step
    # bool (F, H, W): the pixels that show objects rather than the empty setting, where the source knows them
    # (the procedural world renders its background alone); the DiT may weigh their latents up (TrainConfig.focus_weight)
    focus: np.ndarray | None = None


FOCUS_THRESHOLD = 16  # a pixel shows an object where some channel differs from the empty setting by more than this


def world_focus(frames: np.ndarray, background: np.ndarray) -> np.ndarray:
    """uint8 (F, H, W, 3) clip and the same clip without objects -> bool (F, H, W) object pixels."""
    diff = np.abs(frames.astype(np.int16) - background.astype(np.int16)).max(axis=-1)  # (F, H, W)
    return diff > FOCUS_THRESHOLD


def focus_ring(focus: torch.Tensor) -> torch.Tensor:
    """float (B, F, H, W) object pixels -> the same plus a one-pixel ring around them (their edges, where a blurry
    decoder errs): what the VAE's focus weight covers."""
    return F_.max_pool3d(focus[:, None], (1, 3, 3), stride=1, padding=(0, 1, 1))[:, 0]


def focus_grid(focus: np.ndarray, f: int, h: int, w: int) -> torch.Tensor:
    """bool (F, H, W) pixel focus -> float32 (f, h, w) on the latent grid of a causal VAE (F = t (f - 1) + 1,
    H = s h, W = s w): a latent cell is 1 where any pixel it encodes (frame 0 alone, then t frames each) is."""
    F, H, W = focus.shape
    if H % h or W % w or (f > 1 and (F - 1) % (f - 1)) or (f == 1 and F != 1):
        raise TenkuError(f"focus of {F}x{H}x{W} pixels does not map onto a {f}x{h}x{w} latent grid")
    x = torch.from_numpy(np.ascontiguousarray(focus)).float()[None, None]  # (1, 1, F, H, W)
    first = F_.max_pool3d(x[:, :, :1], (1, H // h, W // w))  # (1, 1, 1, h, w)
    if f == 1:
        return first[0, 0]
    t = (F - 1) // (f - 1)
    rest = F_.max_pool3d(x[:, :, 1:], (t, H // h, W // w))  # (1, 1, f - 1, h, w)
    return torch.cat([first, rest], dim=2)[0, 0]


class ClipSource:
    """Clip `i` (0 <= i < len) fitted to a bucket. `eligible(bucket)` lists the clips long enough for it."""

    name: str

    def __len__(self) -> int:
        raise NotImplementedError

    def eligible(self, bucket: Bucket) -> list[int]:
        return list(range(len(self)))

    def get(self, i: int, bucket: Bucket) -> Clip:
        raise NotImplementedError


def _clip_seed(seed: int, i: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{i}".encode()).digest()[:4], "little")


class WorldSource(ClipSource):
    """The procedural world: clip i is `tenku.world.dataset.make_sample(seed, i, ...)` rendered at the bucket's size.

    Its captions are all the scene's phrasings plus the long descriptive one (training draws one per step)."""

    def __init__(self, seed: int, fps: int, clips: int):
        self.seed, self.fps, self.clips = seed, fps, clips
        self.name = f"world(seed={seed}, fps={fps}, clips={clips})"

    def __len__(self) -> int:
        return self.clips

    def get(self, i: int, bucket: Bucket) -> Clip:
        from tenku.world.dataset import make_sample
        from tenku.world.render import render_background
        from tenku.world.spec import RenderSpec

        spec = RenderSpec(width=bucket.width, height=bucket.height, fps=self.fps, seconds=bucket.frames / self.fps)
        sample = make_sample(self.seed, i, spec.check())
        frames = fit_clip(sample.frames, self.fps, bucket, self.fps)
        empty = fit_clip(render_background(sample.scene, spec, seed=sample.seed), self.fps, bucket, self.fps)
        return Clip(frames, [*sample.captions, sample.long_caption], world_focus(frames, empty))


# Attribute combinations that the shipped model never sees in training, so that `benchmarks/world_quality.py` can
# measure whether it composes attributes it learned apart (a green cube is made of "green" and "cube").
HELD_OUT_COLOR_SHAPES: frozenset[tuple[str, str]] = frozenset(
    {("red", "pyramid"), ("green", "cube"), ("yellow", "cylinder"), ("purple", "ball"), ("orange", "cube")}
)
HELD_OUT_MOTION_SETTINGS: frozenset[tuple[str, str]] = frozenset({("throw", "room"), ("fall", "studio")})


def is_held_out(scene) -> bool:
    """Whether a `SceneSpec` uses a held-out colour-shape or motion-setting combination."""
    return any(
        (o.color, o.shape) in HELD_OUT_COLOR_SHAPES or (o.motion, scene.setting) in HELD_OUT_MOTION_SETTINGS
        for o in scene.objects
    )


class CoreWorldSource(ClipSource):
    """The world's core subset (1-2 objects, the main motions, three settings, static camera; see
    `tenku.world.sample.random_scene(core=True)`) without the held-out combinations: what the shipped model starts
    from. Clip i is the first non-held-out scene drawn from (seed, i, attempt). Its captions are three phrasings
    plus the long one (the text encoder runs once per distinct caption when latents are cached, and on a CPU that,
    not the VAE, is the cost of a large cache)."""

    core = True

    def __init__(self, seed: int, fps: int, clips: int):
        self.seed, self.fps, self.clips = seed, fps, clips
        self.name = f"world-core(seed={seed}, fps={fps}, clips={clips}, held_out=v1)"

    def __len__(self) -> int:
        return self.clips

    def get(self, i: int, bucket: Bucket) -> Clip:
        from tenku.world.captions import captions, long_caption
        from tenku.world.render import render, render_background
        from tenku.world.sample import random_scene
        from tenku.world.spec import RenderSpec

        spec = RenderSpec(width=bucket.width, height=bucket.height, fps=self.fps, seconds=bucket.frames / self.fps).check()
        for attempt in range(1000):
            rng = np.random.default_rng([self.seed, i, attempt])
            scene = random_scene(rng, core=self.core, seconds=spec.seconds)
            if not is_held_out(scene):
                break
        seed = int(rng.integers(2**31))
        frames = fit_clip(render(scene, spec, seed=seed), self.fps, bucket, self.fps)
        empty = fit_clip(render_background(scene, spec, seed=seed), self.fps, bucket, self.fps)
        return Clip(frames, [*captions(scene, rng, n=3), long_caption(scene)], world_focus(frames, empty))


class WideWorldSource(CoreWorldSource):
    """The whole world (1-4 objects, every motion, setting, camera and occluder) without the held-out combinations:
    the data to widen a model trained on the core to (captions as `CoreWorldSource`'s)."""

    core = False

    def __init__(self, seed: int, fps: int, clips: int):
        super().__init__(seed, fps, clips)
        self.name = f"world-wide(seed={seed}, fps={fps}, clips={clips}, held_out=v1)"


class SyntheticSource(ClipSource):
    """Plain-coloured squares sliding left or right: captions that say what is seen, instantly made."""

    COLORS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (40, 90, 230), "yellow": (245, 220, 40)}

    def __init__(self, seed: int, clips: int):
        self.seed, self.clips = seed, clips
        self.name = f"synthetic(seed={seed}, clips={clips})"

    def __len__(self) -> int:
        return self.clips

    def get(self, i: int, bucket: Bucket) -> Clip:
        rng = np.random.default_rng(_clip_seed(self.seed, i))
        color = list(self.COLORS)[rng.integers(len(self.COLORS))]
        direction = ["left", "right"][rng.integers(2)]
        f, h, w = bucket.frames, bucket.height, bucket.width
        side = max(2, h // 4)
        y = int(rng.integers(0, h - side + 1))
        x0 = int(rng.integers(0, w - side + 1))
        step = (1 if direction == "right" else -1) * max(1, w // (2 * f))
        frames = np.full((f, h, w, 3), 235, dtype=np.uint8)
        for k in range(f):
            x = int(np.clip(x0 + k * step, 0, w - side))
            frames[k, y : y + side, x : x + side] = self.COLORS[color]
        captions = [f"a {color} square moves {direction}", f"{color} square sliding to the {direction}"]
        return Clip(frames, captions, world_focus(frames, np.full_like(frames, 235)))


class FolderSource(ClipSource):
    """A folder with `captions.jsonl`; each line names a video `file` (relative to the folder) and `captions`."""

    def __init__(self, root: str | os.PathLike, fps: int):
        self.root, self.fps = Path(root), fps
        index = self.root / "captions.jsonl"
        if not index.is_file():
            raise TenkuError(f"--data {root}: no captions.jsonl there; make one with `tenku data world` or pass --data world")
        self.entries: list[tuple[Path, list[str], float]] = []  # (file, captions, seconds)
        for n, line in enumerate(index.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                file, captions = self.root / row["file"], row["captions"]
                if not file.exists() and (self.root / "clips" / row["file"]).exists():
                    file = self.root / "clips" / row["file"]  # names relative to clips/
            except (json.JSONDecodeError, KeyError, TypeError):
                raise TenkuError(f"{index}:{n}: each line must be JSON with 'file' and 'captions', got {line[:80]!r}") from None
            if isinstance(captions, str):
                captions = [captions]
            if row.get("long_caption"):  # written by `tenku data world`: a descriptive caption next to the short ones
                captions = [*captions, row["long_caption"]]
            self.entries.append((file, list(captions), _duration(file)))
        if not self.entries:
            raise TenkuError(f"{index} lists no clips")
        self.name = f"folder({self.root.resolve()}, fps={fps}, clips={len(self.entries)})"

    def __len__(self) -> int:
        return len(self.entries)

    def eligible(self, bucket: Bucket) -> list[int]:
        """Clips that last at least the bucket's F frames at the training fps."""
        need = bucket.frames / self.fps
        return [i for i, (_, _, seconds) in enumerate(self.entries) if seconds >= need - 1e-6]

    def get(self, i: int, bucket: Bucket) -> Clip:
        from tenku.video import read_video

        file, captions, _ = self.entries[i]
        frames, src_fps = read_video(file)
        return Clip(fit_clip(frames, src_fps, bucket, self.fps), captions)


def _duration(path: Path) -> float:
    """Seconds of video in a file (frames / fps), from the container header when it says, else by decoding."""
    import av

    from tenku.errors import VideoError
    from tenku.video import read_video

    if not path.is_file():
        raise VideoError(f"{path}: no such file (listed in captions.jsonl)")
    try:
        with av.open(str(path)) as c:
            stream = c.streams.video[0]
            n, rate = stream.frames, stream.average_rate or stream.base_rate
            if n and rate:
                return n / float(rate)
    except Exception:
        pass
    frames, fps = read_video(path)
    return frames.shape[0] / fps


def fit_clip(frames: np.ndarray, src_fps: float, bucket: Bucket, fps: float) -> np.ndarray:
    """uint8 (F', H', W', 3) at `src_fps` -> uint8 (F, H, W, 3) at `fps`: resample time by nearest frame, crop the
    centre to the bucket's aspect ratio, resize (antialiased bilinear). Too few frames repeat the last one."""
    idx = np.round(np.arange(bucket.frames) * src_fps / fps).astype(int)
    frames = frames[np.minimum(idx, len(frames) - 1)]
    f, h, w, _ = frames.shape
    if (h, w) == (bucket.height, bucket.width):
        return np.ascontiguousarray(frames)
    target = bucket.width / bucket.height
    if w / h > target:  # too wide: crop the sides
        cw = round(h * target)
        frames = frames[:, :, (w - cw) // 2 : (w - cw) // 2 + cw]
    else:
        ch = round(w / target)
        frames = frames[:, (h - ch) // 2 : (h - ch) // 2 + ch]
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # (F, 3, h, w)
    x = F_.interpolate(x, size=(bucket.height, bucket.width), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()  # (F, H, W, 3)


def make_source(data: str, seed: int, fps: int, clips: int) -> ClipSource:
    """TrainConfig.data -> a ClipSource: "world", "synthetic" or a folder path."""
    if data == "world":
        return WorldSource(seed, fps, clips)
    if data == "world-core":
        return CoreWorldSource(seed, fps, clips)
    if data == "world-wide":
        return WideWorldSource(seed, fps, clips)
    if data == "synthetic":
        return SyntheticSource(seed, clips)
    if not Path(data).is_dir():
        raise TenkuError(f"--data must be 'world', 'world-core', 'world-wide', 'synthetic' or a folder of videos + "
                         f"captions.jsonl, got {data!r}")
    return FolderSource(data, fps)


def to_model_input(frames: np.ndarray) -> torch.Tensor:
    """uint8 (F, H, W, 3) -> float32 (3, F, H, W) in [-1, 1]."""
    return torch.from_numpy(frames).permute(3, 0, 1, 2).float() / 127.5 - 1.0


def to_frames(x: torch.Tensor) -> np.ndarray:
    """float (3, F, H, W) in [-1, 1] -> uint8 (F, H, W, 3)."""
    x = ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 3, 0).cpu().numpy()


# --- the batch schedule ----------------------------------------------------------------------------------------


class BucketSchedule:
    """Which clips form each step's batch: a pure function of (seed, step), so resuming needs only the step.

    Buckets take turns (step s uses bucket s mod n_buckets). Within a bucket, clips are visited in a fresh seeded
    permutation each epoch, so every eligible clip is seen once before any is seen twice. With several ranks the
    global batch is drawn as above and rank r takes rows r, r + world_size, ...
    """

    def __init__(self, sizes: list[int], batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        if batch_size % world_size:
            raise TenkuError(f"batch_size {batch_size} must be divisible by the number of processes {world_size}")
        for b, n in enumerate(sizes):
            if n == 0:
                raise TenkuError(f"bucket {b} has no clips long enough for it; drop it or add longer clips")
        self.sizes, self.batch_size, self.seed = sizes, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self._last: dict[int, tuple[int, np.ndarray]] = {}  # bucket -> (epoch, permutation): a memo, not state

    def _perm(self, bucket: int, epoch: int) -> np.ndarray:
        if self._last.get(bucket, (None,))[0] != epoch:
            self._last[bucket] = (epoch, np.random.default_rng([self.seed, bucket, epoch]).permutation(self.sizes[bucket]))
        return self._last[bucket][1]

    def __call__(self, step: int) -> tuple[int, list[int]]:
        """step -> (bucket index, positions into that bucket's eligible clips) for this rank."""
        bucket = step % len(self.sizes)
        turn = step // len(self.sizes)  # how many batches this bucket has given before
        n = self.sizes[bucket]
        positions = []
        for k in range(turn * self.batch_size, (turn + 1) * self.batch_size):
            epoch, i = divmod(k, n)
            positions.append(int(self._perm(bucket, epoch)[i]))
        return bucket, positions[self.rank :: self.world_size]

    def caption_choice(self, step: int, position: int, count: int) -> int:
        return int(np.random.default_rng([self.seed, 1 << 20, step, position]).integers(count))


class PixelBatches:
    """Pixel batches for the VAE: step -> {"video": float32 (B, 3, F, H, W) in [-1, 1], "focus": float32
    (B, F, H, W) object pixels (0 where the source does not know them), "bucket": Bucket}."""

    def __init__(self, source: ClipSource, buckets: list[Bucket], batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        self.source, self.buckets = source, buckets
        self.eligible = [source.eligible(b) for b in buckets]
        self.schedule = BucketSchedule([len(e) for e in self.eligible], batch_size, seed, rank, world_size)

    def __call__(self, step: int) -> dict:
        b, positions = self.schedule(step)
        bucket = self.buckets[b]
        clips = [self.source.get(self.eligible[b][p], bucket) for p in positions]
        focus = [torch.from_numpy(c.focus) if c.focus is not None else torch.zeros(c.frames.shape[:3], dtype=torch.bool)
                 for c in clips]
        return {"video": torch.stack([to_model_input(c.frames) for c in clips]), "bucket": bucket,
                "focus": torch.stack(focus).float()}  # (B, F, H, W): 1 where the source knows an object shows


# --- the latent cache ------------------------------------------------------------------------------------------

SHARD_CLIPS = 256  # clips per safetensors shard


def cache_key(source: ClipSource, buckets: list[Bucket], vae_sha256: str, text_sha256: str, max_tokens: int) -> dict:
    """What the cache depends on; a cache whose meta.json differs is rebuilt."""
    return {"source": source.name, "buckets": [str(b) for b in buckets], "vae_sha256": vae_sha256,
            "text_sha256": text_sha256, "max_tokens": max_tokens, "shard_clips": SHARD_CLIPS, "focus": "v1"}


def build_latent_cache(
    folder: str | os.PathLike,
    source: ClipSource,
    buckets: list[Bucket],
    encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    encode_text: Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]],
    key: dict,
    batch_size: int = 8,
    progress: Callable[[str, int, int], None] | None = None,
) -> Path:
    """Encode every eligible clip of every bucket once; reuse the folder when its meta.json matches `key`.

    encode: float32 (B, 3, F, H, W) in [-1, 1] -> (mean, logvar) each (B, c, f, h, w), on any device.
    encode_text: captions -> (states (B, L, D_text), mask (B, L)).
    Layout: meta.json; texts.json (distinct captions) + texts.safetensors ("states" fp16 (U, L, D), "mask" (U, L));
    one folder per bucket with shard-NNNNN.safetensors holding "{i}.mean", "{i}.logvar", "{i}.captions" per clip,
    and "{i}.focus" (f, h, w) fp16 (`focus_grid`) where the source knows which pixels show objects.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    meta_path = folder / "meta.json"
    if meta_path.is_file() and json.loads(meta_path.read_text()) == key:
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
    try:
        captions: dict[str, int] = {}
        for bucket in buckets:
            (tmp / str(bucket)).mkdir()
            ids = source.eligible(bucket)
            shard: dict[str, torch.Tensor] = {}
            shards = in_shard = 0
            for start in range(0, len(ids), batch_size):
                chunk = ids[start : start + batch_size]
                clips = [source.get(i, bucket) for i in chunk]
                with torch.no_grad():
                    mean, logvar = encode(torch.stack([to_model_input(c.frames) for c in clips]))
                for i, clip, m, lv in zip(chunk, clips, mean.float().cpu(), logvar.float().cpu()):
                    shard[f"{i}.mean"], shard[f"{i}.logvar"] = m.contiguous(), lv.contiguous()
                    shard[f"{i}.captions"] = torch.tensor([captions.setdefault(c, len(captions)) for c in clip.captions])
                    if clip.focus is not None:
                        shard[f"{i}.focus"] = focus_grid(clip.focus, *m.shape[1:]).half()
                    in_shard += 1
                    if in_shard == SHARD_CLIPS:
                        save_file(shard, str(tmp / str(bucket) / f"shard-{shards:05d}.safetensors"))
                        shard, shards, in_shard = {}, shards + 1, 0
                if progress:
                    progress(str(bucket), min(start + batch_size, len(ids)), len(ids))
            if shard:
                save_file(shard, str(tmp / str(bucket) / f"shard-{shards:05d}.safetensors"))
        texts = list(captions)
        states, masks = [], []
        for start in range(0, len(texts), 64):
            s, m = encode_text(texts[start : start + 64])
            states.append(s.cpu().half())
            masks.append(m.cpu())
        save_file({"states": torch.cat(states).contiguous(), "mask": torch.cat(masks).contiguous()}, str(tmp / "texts.safetensors"))
        (tmp / "texts.json").write_text(json.dumps(texts, indent=0) + "\n")
        (tmp / "meta.json").write_text(json.dumps(key, indent=2) + "\n")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


class LatentBatches:
    """Latent batches for the DiT from a built cache: step -> {"mean", "logvar": (B, c, f, h, w) float32,
    "focus": (B, f, h, w) float32 (0 where the source had none), "text": (B, L, D_text) float32, "text_mask":
    (B, L) bool, "bucket": Bucket}. All of it is held in memory."""

    def __init__(self, folder: str | os.PathLike, buckets: list[Bucket], batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        from safetensors.torch import load_file

        folder = Path(folder)
        self.buckets = buckets
        texts = load_file(str(folder / "texts.safetensors"))
        self.text_states, self.text_mask = texts["states"], texts["mask"]
        self.clips: list[list[tuple[torch.Tensor, ...]]] = []
        for bucket in buckets:
            tensors: dict[str, torch.Tensor] = {}
            for shard in sorted((folder / str(bucket)).glob("shard-*.safetensors")):
                tensors.update(load_file(str(shard)))
            ids = sorted(int(k.split(".")[0]) for k in tensors if k.endswith(".mean"))
            self.clips.append([
                (tensors[f"{i}.mean"], tensors[f"{i}.logvar"], tensors[f"{i}.captions"],
                 tensors.get(f"{i}.focus", torch.zeros(tensors[f"{i}.mean"].shape[1:])).float())
                for i in ids
            ])
        self.schedule = BucketSchedule([len(c) for c in self.clips], batch_size, seed, rank, world_size)

    def __call__(self, step: int) -> dict:
        b, positions = self.schedule(step)
        rows = [self.clips[b][p] for p in positions]
        caption_ids = [int(c[self.schedule.caption_choice(step, p, len(c))]) for p, (_, _, c, _) in zip(positions, rows)]
        return {
            "mean": torch.stack([r[0] for r in rows]),  # (B, c, f, h, w)
            "logvar": torch.stack([r[1] for r in rows]),  # (B, c, f, h, w)
            "focus": torch.stack([r[3] for r in rows]),  # (B, f, h, w)
            "text": self.text_states[caption_ids].float(),  # (B, L, D_text)
            "text_mask": self.text_mask[caption_ids],  # (B, L)
            "bucket": self.buckets[b],
        }

