"""How well a model follows world prompts, judged by `tenku judge`, on prompts it never saw in training.

    python3 benchmarks/world_quality.py                       # the shipped tenku-world model, 200 prompts
    python3 benchmarks/world_quality.py --model runs/dit --prompts 50 --steps 20
    python3 benchmarks/world_quality.py --threads 2 --judge-workers 1   # judge on one core while the model generates

The prompt set: core-world scenes (1-2 objects, the main motions, three settings, static camera; what the shipped
model trains on) that each use at least one held-out combination (`tenku.data.HELD_OUT_COLOR_SHAPES`,
`HELD_OUT_MOTION_SETTINGS`): a colour-shape or motion-setting pair that training never shows. Each prompt is one
of the scene's caption phrasings; prompt i is generated with seed i. The same scenes rendered by the world's own
renderer are judged too: their pass rate is the ceiling the judge allows (the judge is not perfect either).
With --through-vae, those renders are also judged after a round trip through the model's VAE (encode, decode):
the ceiling the VAE allows, since the transformer can draw nothing its latents cannot hold.

Then a sampling-speed table: a 4 s clip at the model's default size, split into text encoding, the transformer
loop and VAE decoding (median of --repeats), and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

import numpy as np
import torch

CRITERIA = ("objects", "motion", "physics", "consistency")


def held_out_scenes(n: int, seed: int, seconds: float):
    """n (prompt, scene) pairs of core scenes that use a held-out combination; a function of (n, seed)."""
    from tenku.data import is_held_out
    from tenku.world.captions import captions
    from tenku.world.sample import random_scene

    out = []
    for i in range(n):
        for attempt in range(10_000):
            rng = np.random.default_rng([seed, i, attempt])
            scene = random_scene(rng, core=True, seconds=seconds)
            if is_held_out(scene):
                break
        out.append((captions(scene, rng)[0], scene))
    return out


def rates(reports) -> dict[str, float]:
    r = {c: 100.0 * np.mean([rep.criterion(c).passed for rep in reports]) for c in CRITERIA}
    r["all"] = 100.0 * np.mean([rep.passed for rep in reports])
    r["score"] = float(np.mean([rep.score for rep in reports]))
    return r


@torch.no_grad()
def round_trip(pipe, frames: np.ndarray) -> np.ndarray:
    """uint8 (F, H, W, 3) -> the same frames encoded and decoded by the pipeline's VAE (padded with the last frame
    to the 4k + 1 frames a causal VAE takes, then cut back)."""
    from tenku.data import to_frames, to_model_input

    t = pipe.vae.temporal_factor
    pad = (-(len(frames) - 1)) % t
    x = to_model_input(np.concatenate([frames, np.repeat(frames[-1:], pad, axis=0)]))[None]  # (1, 3, F, H, W)
    mean, _ = pipe.vae.encode_video(x.to(pipe.device))
    return to_frames(pipe.vae.decode_video(mean)[0].cpu())[: len(frames)]


def _judge(job: tuple[np.ndarray, float, str]):
    """One judge call in a worker process (`--judge-workers`)."""
    from tenku.world.judge import judge_video

    frames, fps, prompt = job
    return judge_video(frames, fps, prompt)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="pipeline folder (default: the shipped tenku-world)")
    parser.add_argument("--prompts", type=int, default=200, help="0: the speed table alone")
    parser.add_argument("--seed", type=int, default=7, help="draws the prompt set")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--guidance", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=3, help="runs per speed measurement (0: no speed table)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--save", default=None, help="folder to keep the generated MP4s in")
    parser.add_argument("--through-vae", action="store_true", help="also judge the renders after a VAE round trip")
    parser.add_argument("--judge-workers", type=int, default=0,
                        help="judge in this many worker processes while the model generates (0: in turn, here)")
    args = parser.parse_args()
    if args.prompts < 0:
        parser.error(f"--prompts must be 0 or more, got {args.prompts}")
    if args.repeats < 0:
        parser.error(f"--repeats must be 0 or more, got {args.repeats}")
    if args.prompts == 0 and args.repeats == 0:
        parser.error("--prompts 0 and --repeats 0 leave nothing to measure")
    if args.judge_workers < 0:
        parser.error(f"--judge-workers must be 0 or more, got {args.judge_workers}")
    if args.threads:
        torch.set_num_threads(args.threads)

    from rich.console import Console
    from rich.table import Table

    from tenku.pipeline import Pipeline
    from tenku.world.judge import judge_video
    from tenku.world.render import render
    from tenku.world.spec import RenderSpec

    console = Console()
    pipe = Pipeline.from_pretrained(args.model)
    d = pipe.defaults
    spec = RenderSpec(width=d.width, height=d.height, fps=d.fps, seconds=d.seconds).check()
    pairs = held_out_scenes(args.prompts, args.seed, d.seconds)

    if args.prompts > 0:  # --prompts 0: the speed table alone
        # each judged clip is a job: (frames, fps, prompt); in worker processes the judge runs while the model
        # generates the next clip (the judge is deterministic: the same reports either way)
        pool = None
        if args.judge_workers:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(args.judge_workers, mp_context=mp.get_context("spawn"))
        judged: dict[str, list] = {"model": [], "render": [], "vae": []}

        def judge(kind: str, frames: np.ndarray, fps: float, prompt: str) -> None:
            job = (frames, fps, prompt)
            judged[kind].append(pool.submit(_judge, job) if pool else judge_video(*job))

        t0 = time.perf_counter()
        for i, (prompt, scene) in enumerate(pairs):
            video = pipe(prompt, seed=i, steps=args.steps, guidance=args.guidance)
            if args.save:
                from pathlib import Path

                video.save(Path(args.save) / f"{i:04d}.mp4")
            judge("model", video.frames, video.fps, prompt)
            truth = render(scene, spec, seed=i)
            judge("render", truth, spec.fps, prompt)
            if args.through_vae:
                judge("vae", round_trip(pipe, truth), spec.fps, prompt)
            if (i + 1) % 20 == 0:
                console.print(f"{i + 1}/{len(pairs)} prompts, {time.perf_counter() - t0:.0f} s", highlight=False)
        if pool:
            judged = {k: [f.result() for f in v] for k, v in judged.items()}
            pool.shutdown()
            console.print(f"judged, {time.perf_counter() - t0:.0f} s", highlight=False)
        model_reports, render_reports, vae_reports = judged["model"], judged["render"], judged["vae"]
        examples = [(prompt, rep) for (prompt, _), rep in zip(pairs[:3], model_reports)]

        columns = {"model": rates(model_reports), "renderer (ceiling)": rates(render_reports)}
        if args.through_vae:
            columns["renderer through the VAE"] = rates(vae_reports)
        table = Table(title=f"world prompts with held-out combinations: {len(pairs)} prompts, pass rate %")
        for col in ("criterion", *columns):
            table.add_column(col, justify="left" if col == "criterion" else "right")
        for c in (*CRITERIA, "all"):
            table.add_row(c, *(f"{r[c]:.1f}" for r in columns.values()))
        table.add_row("mean score", *(f"{r['score']:.3f}" for r in columns.values()))
        console.print(table)
        for prompt, rep in examples:
            console.print(f"[dim]{prompt!r}: " + "; ".join(f"{c.name} {'ok' if c.passed else 'FAIL'} ({c.detail})" for c in rep.criteria), highlight=False)

    # sampling speed, by stage
    if args.repeats == 0:
        return
    stages: dict[str, list[float]] = {"text": [], "transformer": [], "VAE decode": [], "total": []}
    req = pipe.check_inputs("a red ball bounces on grass", steps=args.steps, guidance=args.guidance)
    for k in range(args.repeats):
        t = [time.perf_counter()]
        text, mask, null_text, null_mask = pipe.encode_prompt(f"a red ball bounces on grass {k}", "", [])
        t.append(time.perf_counter())
        noise = pipe.prepare_latents(req.frames, req.height, req.width, k)
        latents = pipe._generate(text, mask, null_text, null_mask, noise, steps=req.steps, guidance=req.guidance)
        t.append(time.perf_counter())
        pipe.decode(latents)
        t.append(time.perf_counter())
        for name, a, b in (("text", 0, 1), ("transformer", 1, 2), ("VAE decode", 2, 3), ("total", 0, 3)):
            stages[name].append(t[b] - t[a])
    speed = Table(title=f"sampling one {req.frames}-frame {req.width}x{req.height} clip ({d.seconds:g} s at {d.fps} fps), "
                        f"{req.steps} steps, guidance {req.guidance:g}, {torch.get_num_threads()} threads")
    for col in (*stages, "peak RSS MB"):
        speed.add_column(col, justify="right")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    speed.add_row(*(f"{statistics.median(v):.3f} s" for v in stages.values()), f"{peak:.0f}")
    console.print(speed)


if __name__ == "__main__":
    main()
