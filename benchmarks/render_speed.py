"""World render speed: ms per clip and per frame across sizes, lengths and cameras.

Run on one core, as the target (64x64, 4 s, 8 fps well under 50 ms a clip) is stated for one core:

    OMP_NUM_THREADS=1 python3 benchmarks/render_speed.py [--runs 7]

Each row renders the same 8 random scenes (1-4 objects, all settings and motions; the camera set by the row) and
reports the median over runs of the mean time per clip, physics included. The "physics" column is the simulation
alone, the "background" column the empty scene alone.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from tenku.world.physics import simulate
from tenku.world.render import render, render_background
from tenku.world.sample import random_scene
from tenku.world.spec import RenderSpec

CASES = [  # (width, height, seconds, fps, camera or None for each scene's own)
    (64, 64, 4, 8, "static"),
    (64, 64, 4, 8, None),
    (64, 64, 4, 8, "pan_right"),
    (64, 64, 4, 8, "zoom_in"),
    (128, 128, 4, 8, "static"),
    (256, 256, 4, 8, "static"),
    (256, 144, 4, 24, "static"),
    (512, 512, 4, 8, "static"),
    (64, 64, 60, 8, "static"),
]


def _median_ms(fn, scenes, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for s in scenes:
            fn(s)
        times.append((time.perf_counter() - t0) / len(scenes) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    base = [random_scene(np.random.default_rng(i)) for i in range(8)]
    print(f"{'size':>9} {'secs':>5} {'fps':>4} {'frames':>6} {'camera':>9} | {'ms/clip':>8} {'ms/frame':>8} "
          f"{'physics':>8} {'background':>10}")
    for w, h, seconds, fps, camera in CASES:
        spec = RenderSpec(width=w, height=h, seconds=seconds, fps=fps)
        scenes = []
        for s in base:
            s = SceneSpecCopy(s)
            if camera:
                s.camera = camera
            scenes.append(s)
        runs = max(1, args.runs if spec.frames * w * h <= 64 * 64 * 32 * 16 else args.runs // 3)
        render(scenes[0], spec)  # warm up
        clip = _median_ms(lambda s: render(s, spec), scenes, runs)
        phys = _median_ms(lambda s: simulate(s, spec), scenes, runs)
        bg = _median_ms(lambda s: render_background(s, spec), scenes, runs)
        print(f"{w:>4}x{h:<4} {seconds:>5g} {fps:>4g} {spec.frames:>6} {camera or 'mixed':>9} | {clip:>8.1f} "
              f"{clip / spec.frames:>8.2f} {phys:>8.1f} {bg:>10.1f}")


def SceneSpecCopy(scene):  # noqa: N802 - a deep copy that keeps the base scenes intact across rows
    from tenku.world.spec import SceneSpec

    return SceneSpec.from_json(scene.to_json())


if __name__ == "__main__":
    main()
