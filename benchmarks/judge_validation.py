"""Validate the judge: clean renders of random scenes pass, corrupted ones fail the criterion the corruption breaks.

    python3 benchmarks/judge_validation.py --n 500 --seed 0      # the full table (~45 minutes with --workers 1)
    python3 benchmarks/judge_validation.py --quick               # 40 clips, a smoke run
    python3 benchmarks/judge_validation.py --seed 3 --only 7,41 -v  # two clips of a run again, failures listed

Each clip is a `sample.random_scene` rendered at one of `SIZES` and `RATES` for 4 s; every other clip goes through
an H.264 MP4 and back (`tenku.video`), as a model's output would. The prompt is the scene's caption
(`captions.long_caption`), read by the judge through `parse.parse_prompt` like any user prompt.

Every clip is judged clean, and one corruption (cycling through `CORRUPTIONS`) is applied to it where it is
meaningful for that clip; the corrupted clip counts as detected when any of the corruption's criteria fails:

- recolour: one object drawn in another colour (one no other object has) -> objects
- reverse: a clip with a falling or bouncing object, played backwards -> physics
- shuffle: frames in random order, in a clip where something moves -> consistency or physics
- remove: one object erased from the middle of the clip on, at a moment it is in full view -> consistency
- freeze: one frame held for the whole clip, for a prompt with a moving object -> motion
- noise: Gaussian noise of sigma 60 (of 255) on every pixel of every frame -> consistency or objects
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tenku.world import judge as jd  # noqa: E402
from tenku.world.spec import ObjectQuery, PromptQuery, RenderSpec, SceneSpec  # noqa: E402

SIZES = ((64, 64), (96, 96), (128, 72))
RATES = (8.0, 10.0, 12.0)
SECONDS = 4.0
CRITERIA = ("objects", "motion", "physics", "consistency")
CORRUPTIONS: dict[str, tuple[str, ...]] = {
    "recolour": ("objects",),
    "reverse": ("physics",),
    "shuffle": ("consistency", "physics"),
    "remove": ("consistency",),
    "freeze": ("motion",),
    "noise": ("consistency", "objects"),
}
MOVING = ("bounce", "roll", "fall", "throw", "float", "orbit")
NOISE_SIGMA = 60.0


@dataclass
class Result:
    index: int
    size: tuple[int, int]
    fps: float
    mp4: bool
    prompt: str
    clean: dict[str, bool]
    details: dict[str, str]
    seconds: float  # judge time for the clean clip
    corruption: str | None = None
    detected: bool | None = None
    corrupt_details: dict[str, str] = field(default_factory=dict)


# --- clips -----------------------------------------------------------------------------------------------------


def draw_case(seed: int, i: int) -> tuple[SceneSpec, RenderSpec, bool, np.random.Generator]:
    """The i-th clip of a run: a random scene, a size and rate, and whether it goes through an MP4."""
    from tenku.world.sample import random_scene

    rng = np.random.default_rng([seed, i])
    scene = random_scene(rng)
    w, h = SIZES[int(rng.integers(len(SIZES)))]
    fps = RATES[int(rng.integers(len(RATES)))]
    return scene, RenderSpec(width=w, height=h, fps=fps, seconds=SECONDS), i % 2 == 1, rng


def prompt_for(scene: SceneSpec) -> str:
    from tenku.world.captions import long_caption

    return long_caption(scene)


def query_for(scene: SceneSpec) -> PromptQuery:
    """What a perfect parser would read from a full caption of `scene` (for runs without `captions`/`parse`)."""
    objects = [
        ObjectQuery(
            shape=o.shape,
            color=o.color,
            size=o.size,
            motion=o.motion,
            direction=o.direction if o.direction != "none" else None,
        )
        for o in scene.objects
    ]
    return PromptQuery(
        objects=objects,
        setting=scene.setting,
        camera=scene.camera,
        occluder=scene.occluders[0].kind if scene.occluders else None,
    )


def mp4_round_trip(frames: np.ndarray, fps: float) -> tuple[np.ndarray, float]:
    from tenku.video import read_video, write_video

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        write_video(path, frames, fps)
        out, fps_read = read_video(path)
    return out[:, : frames.shape[1], : frames.shape[2]], fps_read


# --- corruptions -----------------------------------------------------------------------------------------------


def corrupt(kind: str, scene: SceneSpec, spec: RenderSpec, frames: np.ndarray, traj, rng) -> np.ndarray | None:
    """The clip with corruption `kind`, or None where it would not change what the clip shows."""
    from tenku.world.render import render_trajectory
    from tenku.world.spec import COLORS

    f = frames.shape[0]
    if kind == "recolour":
        used = {o.color for o in scene.objects}
        k = int(rng.integers(len(scene.objects)))
        other = SceneSpec.from_json(scene.to_json())
        other.objects[k].color = str(rng.choice([c for c in COLORS if c not in used]))
        return render_trajectory(other, spec, traj)
    if kind == "reverse":
        if not any(o.motion in ("fall", "bounce") for o in scene.objects):
            return None
        return frames[::-1].copy()
    if kind == "shuffle":
        if scene.camera == "static" and not any(o.motion in MOVING + ("spin",) for o in scene.objects):
            return None
        return frames[rng.permutation(f)]
    if kind == "remove":
        # an object in full view (in the frame, no occluder on it) at some frame in the middle half
        col_half = 4.0 / traj.zoom  # metres from the view centre to the frame's side
        candidates = []
        for k in range(len(scene.objects)):
            r = traj.size[k] / 2
            ok = (traj.cover[k] == 0) & (np.abs(traj.x[k] - traj.cam_x) < col_half - r - 0.2)
            ok &= _apart_from_occluders(scene, traj, k)
            frames_ok = [t for t in range(f // 4, 3 * f // 4) if ok[t]]
            if frames_ok:
                candidates.append((k, frames_ok))
        if not candidates:
            return None
        k, frames_ok = candidates[int(rng.integers(len(candidates)))]
        cut = int(rng.choice(frames_ok))
        keep = [j for j in range(len(scene.objects)) if j != k]
        without = SceneSpec.from_json(scene.to_json())
        without.objects = [without.objects[j] for j in keep]
        sub = _select(traj, keep)
        out = frames.copy()
        out[cut:] = render_trajectory(without, spec, sub)[cut:]
        return out
    if kind == "freeze":
        if not any(o.motion in MOVING for o in scene.objects):
            return None
        return np.repeat(frames[f // 2][None], f, axis=0)
    if kind == "noise":
        noisy = frames.astype(np.float32) + rng.normal(0, NOISE_SIGMA, frames.shape).astype(np.float32)
        return np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
    raise ValueError(kind)


def _apart_from_occluders(scene: SceneSpec, traj, k: int) -> np.ndarray:
    """(F,) bool: object k is at least a metre clear of every occluder."""
    ok = np.ones(traj.frames, bool)
    for oc in scene.occluders:
        ok &= np.abs(traj.x[k] - oc.x) > oc.width / 2 + traj.size[k] / 2 + 1.0
    return ok


def _select(traj, keep: list[int]):
    from dataclasses import replace

    arrays = {name: getattr(traj, name)[keep] for name in ("x", "y", "angle", "vx", "vy", "visible", "cover", "size")}
    return replace(traj, **arrays)


# --- one case --------------------------------------------------------------------------------------------------


def judge(frames: np.ndarray, fps: float, prompt: str, scene: SceneSpec, use_parser: bool) -> jd.JudgeReport:
    if use_parser:
        return jd.judge_video(frames, fps, prompt)
    return jd.judge_query(frames, fps, query_for(scene), prompt)


def run_case(args: tuple[int, int, str | None, bool]) -> Result:
    seed, i, kind, use_parser = args
    from tenku.world.render import render_with_trajectory

    scene, spec, mp4, rng = draw_case(seed, i)
    prompt = prompt_for(scene) if use_parser else scene.to_json()
    frames, traj = render_with_trajectory(scene, spec, seed=i)
    clean_frames, fps = mp4_round_trip(frames, spec.fps) if mp4 else (frames, spec.fps)
    t0 = time.perf_counter()
    rep = judge(clean_frames, fps, prompt, scene, use_parser)
    seconds = time.perf_counter() - t0
    res = Result(
        index=i,
        size=(spec.width, spec.height),
        fps=spec.fps,
        mp4=mp4,
        prompt=prompt,
        clean={c.name: c.passed for c in rep.criteria},
        details={c.name: c.detail for c in rep.criteria},
        seconds=seconds,
    )
    if kind is not None:
        bad = corrupt(kind, scene, spec, frames, traj, rng)
        if bad is not None:
            if mp4:
                bad, fps = mp4_round_trip(bad, spec.fps)
            rep = judge(bad, fps, prompt, scene, use_parser)
            res.corruption = kind
            res.detected = any(not rep.criterion(c).passed for c in CORRUPTIONS[kind])
            res.corrupt_details = {c.name: c.detail for c in rep.criteria if not c.passed}
    return res


def validate(
    n: int, seed: int = 0, workers: int = 1, use_parser: bool | None = None, only: list[int] | None = None
) -> list[Result]:
    """Judge n clean clips and one corruption of each (cycling through `CORRUPTIONS`); with `only`, just the clips
    of those indices (each with the corruption it gets in a full run), to look again at listed failures."""
    if use_parser is None:
        use_parser = _parser_available()
    kinds = list(CORRUPTIONS)
    jobs = [(seed, i, kinds[i % len(kinds)], use_parser) for i in (range(n) if only is None else only)]
    n = len(jobs)
    t0, out = time.perf_counter(), []
    with Pool(workers) if workers > 1 else _Serial() as pool:
        for r in pool.imap(run_case, jobs, chunksize=4):
            out.append(r)
            if len(out) % 50 == 0 or len(out) == n:  # progress on stderr: a full run takes a while
                print(f"{len(out)}/{n} clips, {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    return out


class _Serial:
    """`Pool`'s imap in this process, for --workers 1."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, jobs, chunksize=1):
        return map(fn, jobs)


def _parser_available() -> bool:
    try:
        from tenku.world import captions, parse  # noqa: F401
    except ImportError:
        return False
    return True


# --- report ----------------------------------------------------------------------------------------------------


def summarise(results: list[Result]) -> dict:
    clean = {c: float(np.mean([r.clean[c] for r in results])) for c in CRITERIA}
    all_criteria = float(np.mean([v for r in results for v in r.clean.values()]))
    detection = {}
    for kind in CORRUPTIONS:
        hits = [r.detected for r in results if r.corruption == kind]
        detection[kind] = (float(np.mean(hits)) if hits else float("nan"), len(hits))
    return {
        "clips": len(results),
        "clean": clean,
        "clean_all": all_criteria,
        "clips_passed": float(np.mean([all(r.clean.values()) for r in results])),
        "detection": detection,
        "seconds": float(np.median([r.seconds for r in results])),
    }


def print_table(results: list[Result], wall: float, args) -> None:
    s = summarise(results)
    n_mp4 = sum(r.mp4 for r in results)
    print(f"judge validation: {s['clips']} random scenes (seed {args.seed}), {n_mp4} through H.264 MP4, "
          f"sizes {', '.join(f'{w}x{h}' for w, h in SIZES)}, {', '.join(f'{r:g}' for r in RATES)} fps, {SECONDS:g} s")
    print()
    print("clean clips                  pass rate")
    for c in CRITERIA:
        print(f"  {c:26s} {s['clean'][c]:8.2%}")
    print(f"  {'all criteria (pooled)':26s} {s['clean_all']:8.2%}")
    print(f"  {'clips passing everything':26s} {s['clips_passed']:8.2%}")
    print()
    print("corruption   must fail               detected      n")
    for kind, (rate, count) in s["detection"].items():
        print(f"  {kind:10s} {' or '.join(CORRUPTIONS[kind]):22s} {rate:8.2%} {count:6d}")
    print()
    print(f"judge time per clip (median): {s['seconds']:.2f} s; wall time {wall:.0f} s with {args.workers} workers")
    if args.verbose:
        print()
        for r in results:
            fails = [c for c, ok in r.clean.items() if not ok]
            if fails:
                print(f"clean #{r.index} {r.size} {r.fps:g}fps mp4={r.mp4}: " + "; ".join(f"{c}: {r.details[c]}" for c in fails))
                print(f"    prompt: {r.prompt}")
        for r in results:
            if r.corruption and not r.detected:
                print(f"missed {r.corruption} #{r.index} {r.size} {r.fps:g}fps mp4={r.mp4}: {r.corrupt_details}")


def _indices(text: str) -> list[int]:
    try:
        out = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--only takes clip indices separated by commas, e.g. 3,41; got {text!r}")
    if not out or min(out) < 0:
        raise argparse.ArgumentTypeError(f"--only takes non-negative clip indices, e.g. 3,41; got {text!r}")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=500, help="clean clips (each also gets one corruption)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="40 clips: a smoke run")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--direct", action="store_true", help="give the judge the scene's words, not a parsed caption")
    p.add_argument("--verbose", "-v", action="store_true", help="list every failure")
    p.add_argument("--only", type=_indices, help="judge only these clips of the run, e.g. 3,41 (from a -v listing)")
    args = p.parse_args()
    n = 40 if args.quick else args.n
    t0 = time.perf_counter()
    results = validate(n, args.seed, args.workers, use_parser=False if args.direct else None, only=args.only)
    print_table(results, time.perf_counter() - t0, args)


if __name__ == "__main__":
    main()
