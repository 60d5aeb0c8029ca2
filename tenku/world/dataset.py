"""World data: a resumable on-disk dataset of MP4s + captions, and an in-memory stream for training.

Clip i depends only on (seed, i): its generator is `np.random.default_rng([seed, i])`, so a resumed run makes the
same clips as an unbroken one, and clip i is the same whatever n is.

On disk:
    out_dir/clips/000000.mp4 ...   H.264, written atomically by `tenku.video.write_video`
    out_dir/captions.jsonl         one JSON line per finished clip: file, captions, long_caption, scene, render, seed
A clip counts as done only once its line is in captions.jsonl, and the line is written (and fsynced) after its MP4
is in place. A run killed mid-line leaves a truncated last line, which the next run drops.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from tenku.errors import TenkuError
from tenku.world.captions import captions, long_caption
from tenku.world.render import render
from tenku.world.sample import random_scene
from tenku.world.spec import RenderSpec, SceneSpec

CAPTIONS_FILE = "captions.jsonl"
CLIPS_DIR = "clips"


@dataclass
class Sample:
    """One training example: uint8 frames (F, H, W, 3), one caption drawn from the scene's phrasings, the scene."""

    frames: np.ndarray
    caption: str
    scene: SceneSpec
    long_caption: str
    captions: list[str]  # all the phrasings `caption` was drawn from
    seed: int  # the render seed of this clip


def make_sample(seed: int, index: int, spec: RenderSpec, core: bool = False) -> Sample:
    """Clip `index` of the world with this seed: a function of (seed, index, spec, core) only."""
    rng = np.random.default_rng([seed, index])
    scene = random_scene(rng, core=core, seconds=spec.seconds)
    clip_seed = int(rng.integers(2**31))
    phrasings = captions(scene, rng)
    long = long_caption(scene)
    # the long caption is one of the choices, as Sora/DALL-E 3 mix descriptive re-captions with short ones
    choice = [*phrasings, long][int(rng.integers(len(phrasings) + 1))]
    frames = render(scene, spec, seed=clip_seed)
    return Sample(frames=frames, caption=choice, scene=scene, long_caption=long, captions=phrasings, seed=clip_seed)


def world_stream(seed: int, width: int, height: int, seconds: float, fps: float, core: bool = False) -> Iterator[Sample]:
    """An endless, deterministic stream of world samples for training (about 25 ms a clip at 64x64, 4 s, 8 fps)."""
    spec = RenderSpec(width=width, height=height, fps=fps, seconds=seconds).check()
    index = 0
    while True:
        yield make_sample(seed, index, spec, core)
        index += 1


def _read_done(path: Path) -> dict[int, dict]:
    """Finished clips by index from captions.jsonl, dropping (and truncating away) a partial last line."""
    done: dict[int, dict] = {}
    if not path.exists():
        return done
    raw = path.read_bytes()
    good_end = 0
    for line in raw.splitlines(keepends=True):
        try:
            if not line.endswith(b"\n"):
                raise ValueError("unterminated")
            row = json.loads(line)
        except ValueError:
            break  # a run killed mid-write: everything from here on is rewritten
        done[int(row["index"])] = row
        good_end += len(line)
    if good_end != len(raw):
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return done


def write_dataset(
    out_dir: str | os.PathLike,
    n: int,
    width: int,
    height: int,
    seconds: float,
    fps: float,
    seed: int,
    core: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write clips 0..n-1 (skipping those already done) and their caption lines; return out_dir.

    `progress(done, n)` is called after each clip. Re-running with the same arguments resumes; a larger n extends.
    Different render settings or seed than the lines already there are an error, not a silently mixed dataset.
    """
    if n < 1:
        raise TenkuError(f"--n must be at least 1, got {n}")
    spec = RenderSpec(width=width, height=height, fps=fps, seconds=seconds).check()
    out = Path(out_dir)
    try:
        (out / CLIPS_DIR).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TenkuError(f"cannot create the dataset folder {out}: {e.strerror}") from None
    if not os.access(out, os.W_OK):
        raise TenkuError(f"cannot write to the dataset folder {out}")
    for stale in (out / CLIPS_DIR).glob(".*.mp4"):  # temporary files of a killed run
        stale.unlink(missing_ok=True)
    jsonl = out / CAPTIONS_FILE
    done = _read_done(jsonl)
    want = {"render": asdict(spec), "seed": seed, "core": core}
    for row in done.values():
        have = {"render": row["render"], "seed": row["seed"], "core": row["core"]}
        if have != want:
            raise TenkuError(f"{jsonl} was made with {have}, not {want}; use a new --out folder")
        break
    from tenku.video import write_video

    with open(jsonl, "a", encoding="utf-8") as lines:
        for i in range(n):
            if i in done:
                continue
            sample = make_sample(seed, i, spec, core)
            name = f"{CLIPS_DIR}/{i:06d}.mp4"
            write_video(out / name, sample.frames, fps, comment=sample.long_caption)
            row = {
                "index": i,
                "file": name,
                "captions": sample.captions,
                "long_caption": sample.long_caption,
                "scene": sample.scene.to_dict(),
                "render": asdict(spec),
                "seed": seed,
                "clip_seed": sample.seed,
                "core": core,
            }
            lines.write(json.dumps(row, sort_keys=True) + "\n")
            lines.flush()
            os.fsync(lines.fileno())
            done[i] = row
            if progress:
                progress(len([k for k in done if k < n]), n)
    return out
