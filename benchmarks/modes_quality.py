"""The measurements of issue 5: how well each creative mode does what it promises, on a trained model.

    python3 benchmarks/modes_quality.py --model runs/dit                # the full table (a GPU is advisable)
    python3 benchmarks/modes_quality.py --model runs/dit --device cuda --cases 10
    python3 benchmarks/modes_quality.py --model /tmp/debug/dit --quick  # end to end in a minute on a debug model

Inputs are clips rendered by the procedural world (tenku.world) at the model's size and fps, so there is a ground
truth to compare with; the judge (tenku.world.judge) reads the outputs. Case i uses PROMPTS[i % 4]; case 1 (sand,
sliding) is outside the shipped model's core training world, so its rows show how a mode degrades there: the table
gives the median and each case's value beside the mean.

- animate: the first frame of a world clip is animated with its prompt. The output's first frame *is* the image
  (held frames are kept exactly), so the figure is the PSNR of the model's own decoding of frame 0 (what the held
  latent gives back, the VAE's reconstruction) against the image, and the seam ratio into frame 1.
- extend (forward and backward) and connect: seam ratio = the frame difference across each seam over the median
  frame difference inside the stitched clip (target <= 1.5); the judge on the new part (extend) with the prompt.
- loop: the difference from the last frame back to the first over the median frame difference (target <= 1.5).
- remix at strength 0.6: a red object's clip remixed to blue; hit = the judge's objects criterion passes for the
  new prompt (target >= 80%); centroid distance = mean distance (metres, world units) between the main object's
  track in the source and in the remix over the frames where both are seen.
- long videos of 10, 30 and 60 s: the judge's mean score on the last 10 s over the first 10 s (target >= 0.9),
  the mean colour drift (mean |per-channel mean| difference, 0..255) between the first and last 10 s with the colour
  anchor on and off (and, with --context-noise, for several context noise levels), wall time and peak memory. Each length runs in a fresh process so that its peak is its own:
  peak RSS on the CPU (ru_maxrss, model and libraries included), torch.cuda.max_memory_allocated on CUDA; the
  "1 window" column is the peak after one window-long clip, so memory that does not grow shows the same figure.

--quick: one case per mode, 2 denoising steps, long videos of 4, 8 and 12 s judged on their first and last 2 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import queue
import resource
import statistics
import sys
import time

PROMPTS = [  # (source prompt, remix prompt): the remix changes the colour only
    ("a red ball rolls to the right on green grass", "a blue ball rolls to the right on green grass"),
    ("a red cube slides to the left on sand", "a blue cube slides to the left on sand"),
    ("a red ball bounces on green grass", "a blue ball bounces on green grass"),
    ("a red ball falls on green grass", "a blue ball falls on green grass"),
]
LONG_PROMPT = "a red ball bounces to the right on green grass"


def world_clip(prompt: str, seed: int, seconds: float, width: int, height: int, fps: float):
    from tenku.video import Video
    from tenku.world.parse import scene_from_prompt
    from tenku.world.render import render
    from tenku.world.spec import RenderSpec

    spec = RenderSpec(width=width, height=height, fps=float(fps), seconds=seconds).check()
    return Video(frames=render(scene_from_prompt(prompt, seed=seed, seconds=seconds), spec, seed=seed), fps=fps)


def judge_score(frames, fps: float, prompt: str) -> tuple[float, float, float]:
    """(mean criterion score, all passed, objects passed); a clip the judge cannot read scores 0, and a judge that
    breaks on it (a bug there, reported on stderr) gives NaN, so one bad clip does not end the benchmark."""
    from tenku.errors import TenkuError
    from tenku.world.judge import judge_video

    try:
        report = judge_video(frames, fps, prompt)
    except TenkuError:
        return 0.0, False, False
    except Exception as e:  # noqa: BLE001
        print(f"warning: the judge failed on a {frames.shape} clip: {type(e).__name__}: {e}", file=sys.stderr)
        return (float("nan"),) * 3
    return report.score, report.passed, report.criterion("objects").passed


def centroid_distance(a, b, fps: float) -> float:
    """Mean distance (m) between the largest tracked object of clips a and b over frames where both see it."""
    import numpy as np

    from tenku.world import track
    from tenku.world.judge import look

    def main_track(frames):
        objects = look(track.prepare(frames, fps)).objects
        if not objects:
            return None
        s = max(objects, key=lambda o: len(o.frame))
        return {int(f): (x, y + h / 2) for f, x, y, h in zip(s.frame, s.x, s.bottom, s.height)}

    try:
        ta, tb = main_track(a), main_track(b)
    except Exception as e:  # noqa: BLE001  (as in judge_score)
        print(f"warning: tracking failed: {type(e).__name__}: {e}", file=sys.stderr)
        return float("nan")
    if not ta or not tb:
        return float("nan")
    common = sorted(set(ta) & set(tb))
    if not common:
        return float("nan")
    return float(np.mean([np.hypot(ta[k][0] - tb[k][0], ta[k][1] - tb[k][1]) for k in common]))


def psnr(a, b) -> float:
    import numpy as np

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 100.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def modes(args) -> dict[str, list[float]]:
    """Every short mode over `args.cases` world clips; returns name -> values."""
    from tenku.modes import loop_ratio, seam_ratio
    from tenku.pipeline import Pipeline

    pipe = Pipeline.from_pretrained(args.model, device=args.device)
    d = pipe.defaults
    gen = dict(steps=args.steps or d.steps, size=(d.width, d.height))
    fps = d.fps
    seconds = d.seconds
    out: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        out.setdefault(name, []).append(float(value))

    for case in range(args.cases):
        source, remixed = PROMPTS[case % len(PROMPTS)]
        seed = 100 + case
        a = world_clip(source, seed, seconds, d.width, d.height, fps)
        b = world_clip(source, seed + 50, seconds, d.width, d.height, fps)
        # animate
        image = a.frames[0]
        anim = pipe.image_to_video(source, image=image, seed=seed, **gen)
        add("animate: decoded first frame PSNR (dB)", psnr(pipe.decode(pipe.encode(image[None]))[0, 0], image))
        add("animate: seam ratio into frame 1", seam_ratio(anim.frames, 1))
        add("animate: judge pass", judge_score(anim.frames, fps, source)[1])
        # extend forward and backward, by one clip length
        ext = pipe.extend(source, video=a, seconds=seconds, seed=seed, **gen)
        n = len(a.frames)
        add("extend: seam ratio", seam_ratio(ext.frames, n))
        add("extend: judge pass on the new part", judge_score(ext.frames[n:], fps, source)[1])
        back = pipe.extend(source, video=a, seconds=seconds, backward=True, seed=seed, **gen)
        add("extend backward: seam ratio", seam_ratio(back.frames, len(back.frames) - n))
        # connect a -> b
        bridge = pipe.connect(source, video=a, end=b, seconds=seconds / 2, seed=seed, **gen)
        import numpy as np

        joined = np.concatenate([a.frames, bridge.frames, b.frames])
        add("connect: seam ratio (start)", seam_ratio(joined, n))
        add("connect: seam ratio (end)", seam_ratio(joined, n + len(bridge.frames)))
        # loop, from text and from a clip
        looped = pipe.loop(source, seconds=2 * seconds, seed=seed, **gen)
        add("loop (text): last->first ratio", loop_ratio(looped.frames))
        add("loop (video): last->first ratio", loop_ratio(pipe.loop(source, video=a, seed=seed, **gen).frames))
        # remix at mid strength
        mix = pipe.remix(remixed, video=a, strength=0.6, seed=seed, **gen)
        add("remix 0.6: judge finds the new colour", judge_score(mix.frames, fps, remixed)[2])
        add("remix 0.6: centroid distance to source (m)", centroid_distance(a.frames, mix.frames, fps))
    return out


def long_run(model: str, device: str, seconds: float, steps: int | None, window: float, anchor: float,
             context_noise: float | None, threads: int, q) -> None:
    """One long video in this (fresh) process: wall time, peak memory, judge first vs last, colour drift."""
    import numpy as np
    import torch

    from tenku.pipeline import Pipeline

    if threads:
        torch.set_num_threads(threads)

    pipe = Pipeline.from_pretrained(model, device=device)
    pipe.defaults.color_anchor = anchor
    if context_noise is not None:
        pipe.defaults.context_noise = context_noise
    d = pipe.defaults
    gen = dict(steps=steps or d.steps, size=(d.width, d.height))
    cuda = device.startswith("cuda")

    def peak_mb() -> float:
        if cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    pipe(LONG_PROMPT, seconds=d.seconds, **gen)  # warm-up: one window, the memory a short clip needs
    window_peak = peak_mb()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    video = pipe(LONG_PROMPT, seconds=seconds, **gen)
    peak = peak_mb()
    wall = time.perf_counter() - t
    k = round(window * video.fps)
    first, last = video.frames[:k], video.frames[-k:]
    s_first, s_last = judge_score(first, video.fps, LONG_PROMPT)[0], judge_score(last, video.fps, LONG_PROMPT)[0]
    drift = float(np.abs(first.reshape(-1, 3).mean(0) - last.reshape(-1, 3).mean(0)).mean())
    q.put({"context_noise": d.context_noise, "seconds": seconds, "wall": wall, "peak_mb": peak, "window_mb": window_peak, "first": s_first, "last": s_last, "drift": drift,
           "frames": len(video.frames)})


def in_fresh_process(*args) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=long_run, args=(*args, q))
    p.start()
    while True:  # a child that dies (an error, the OOM killer) must not leave us waiting on the queue
        try:
            result = q.get(timeout=5)
            break
        except queue.Empty:
            if not p.is_alive():
                raise SystemExit(f"the long-video run {args} died with exit code {p.exitcode}; see its error above")
    p.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cases", type=int, default=4, help="world clips per mode")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--lengths", default="10,30,60", help="long-video lengths in seconds")
    parser.add_argument("--quick", action="store_true", help="1 case, 2 steps, 4/8/12 s judged on 2 s ends")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--context-noise", default="", help="comma-separated SampleConfig.context_noise values to "
                        "compare on the longest video (default: the model's own)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    window = 10.0
    if args.quick:
        args.cases, args.steps, args.lengths, window = 1, args.steps or 2, "4,8,12", 2.0
    lengths = [float(v) for v in args.lengths.split(",")]

    from rich.console import Console
    from rich.table import Table

    console = Console(width=160)
    t0 = time.perf_counter()
    results = modes(args)
    table = Table(title=f"creative modes, {args.cases} world clip(s) each, {args.model}", title_justify="left")
    for col in ("measure", "mean", "median", "min", "max", "target", "per case"):
        table.add_column(col, justify="left" if col in ("measure", "target", "per case") else "right")
    targets = {"PSNR": ">= 25", "seam ratio": "<= 1.5", "ratio": "<= 1.5", "new colour": ">= 0.8", "judge pass": ""}
    for name, values in results.items():
        ok = [v for v in values if v == v]  # drop NaN (no object tracked)
        target = next((t for key, t in targets.items() if key in name), "")
        stats = [f"{f(ok):.2f}" for f in (statistics.mean, statistics.median, min, max)] if ok else ["n/a"] * 4
        table.add_row(name, *stats, target, " ".join(f"{v:.2f}" for v in values))
    console.print(table)

    long = Table(title=f"long videos ({LONG_PROMPT!r}); judge on the first and last {window:g} s", title_justify="left")
    for col in ("seconds", "frames", "anchor", "context noise", "wall s", "s / video s", "peak MB (1 window)", "peak MB",
                "judge first", "judge last", "last / first", "colour drift"):
        long.add_column(col, justify="right")
    noises = [float(v) for v in args.context_noise.split(",") if v.strip()]
    for seconds in lengths:
        runs = [(0.5, None)]
        if seconds == lengths[-1]:
            runs = [(0.5, v) for v in noises or [None]] + [(0.0, None)]
        for anchor, noise in runs:
            r = in_fresh_process(args.model, args.device, seconds, args.steps, window, anchor, noise, args.threads)
            ratio = r["last"] / r["first"] if r["first"] > 0 else float("nan")  # NaN > 0 is False too
            long.add_row(f"{seconds:g}", str(r["frames"]), f"{anchor:g}", f"{r['context_noise']:g}", f"{r['wall']:.1f}", f"{r['wall'] / seconds:.2f}",
                         f"{r['window_mb']:.0f}", f"{r['peak_mb']:.0f}", f"{r['first']:.2f}", f"{r['last']:.2f}", f"{ratio:.2f}", f"{r['drift']:.1f}")
    console.print(long)
    console.print(f"{platform.node()}, {platform.processor() or platform.machine()}, device {args.device}, "
                  f"{args.threads or 'default'} threads; total {time.perf_counter() - t0:.0f} s", highlight=False)


if __name__ == "__main__":
    main()
