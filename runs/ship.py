"""Copy a trained tenku-world run into the package: fp16 weights, the training logs, the model card.

    python3 runs/ship.py RUNS/dit-world --vae-run RUNS/vae-world [--card runs/tenku-world-card.md]
    python3 runs/ship.py RUNS/dit-1 RUNS/dit-2 --vae-run RUNS/vae-1 --vae-run RUNS/vae-2   # staged runs (--init)
    python3 runs/ship.py RUNS/dit-2 --vae-run ... --vae-run RUNS/vae-dec --vae RUNS/vae-dec --dest /tmp/candidate
    python3 runs/ship.py RUNS/dit-5 --after tenku/weights/tenku-world   # one more stage after the shipped model
    python3 runs/ship.py --after tenku/weights/tenku-world --vae-run RUNS/vae-6 --vae RUNS/vae-6   # a new decoder only

--after DIR continues a shipped model's history when its runs are gone: the stages in DIR/logs/ come first and
the runs given here are numbered after them (no --vae-run needed when the VAE did not change). With --after and no
DiT run, DIR's DiT ships unchanged: a new decoder alone (--vae, its run as --vae-run).

--vae ships another VAE than the one the DiT trained on: one whose encoder and latent statistics are the same
(a decoder fine-tuned with `tenku train vae --freeze-encoder`), so that the DiT's latents mean the same; anything
else is refused. --dest writes elsewhere than the package (a candidate to benchmark before shipping it).
--guidance and --steps set the shipped model's sampling defaults (measure them with benchmarks/world_quality.py
--guidance/--steps first); --sample NAME=VALUE sets any other `SampleConfig` field the same way (e.g.
end_latent_frames=2, measured with benchmarks/modes_quality.py).

Writes tenku/weights/tenku-world/ atomically (the old folder stays until the new one is complete): the pipeline of
the last DiT run's `model/` (the EMA weights) stored as fp16, `logs/vae.jsonl` and `logs/dit.jsonl` (every stage's
rows in order, each with its "stage" number), and README.md = the hand-written card (data, recipe, measured
quality, failure cases) followed by a table computed from the logs (steps, clips seen, compute hours, last
losses), one row per stage. A run that continued another with `--init` counts its steps from 0 again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "tenku" / "weights" / "tenku-world"


def read_log(path: Path, stop: int | None = None) -> list[dict]:
    """The rows of a run's log.jsonl, up to step `stop` (a run stopped after its last checkpoint logged a few steps
    that the checkpoint does not hold; resuming drops them, shipping must too). A run resumed from a checkpoint
    logs those steps again: the later rows replace the earlier ones."""
    rows: list[dict] = []
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            while rows and rows[-1]["step"] >= row["step"]:
                rows.pop()
            rows.append(row)
    return [r for r in rows if stop is None or r["step"] <= stop]


def shipped_stages(folder: Path, name: str) -> list[list[dict]]:
    """The stages of a shipped model's logs/NAME.jsonl (rows carry their "stage" number), in order, without it."""
    path = folder / "logs" / f"{name}.jsonl"
    if not path.is_file():
        raise SystemExit(f"--after {folder}: no {path.relative_to(folder)} (a folder written by runs/ship.py has one)")
    stages: dict[int, list[dict]] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            stages.setdefault(row.pop("stage"), []).append(row)
    return [stages[k] for k in sorted(stages)]


def log_summary(rows: list[dict]) -> dict:
    seconds = clips = 0.0
    prev = 0
    for r in rows:
        n = r["step"] - prev
        prev = r["step"]
        seconds += n / max(r["steps_per_s"], 1e-9)
        clips += n * r["samples_per_s"] / max(r["steps_per_s"], 1e-9)
    tail = rows[-20:]
    numeric = [k for k in tail[0] if k not in ("step", "lr") and all(isinstance(r.get(k), (int, float)) for r in tail)]
    last = {k: sum(r[k] for r in tail) / len(tail) for k in numeric}
    return {"steps": prev, "hours": seconds / 3600, "clips": clips, "last": last}


def same_latents_vae(trained_on, path: Path):
    """The VAE at `path` if its encoder and latent statistics are exactly those of `trained_on` (the DiT's VAE)."""
    from tenku.checkpoint import load_component, resolve_checkpoint
    from tenku.config import VAEConfig
    from tenku.errors import TenkuError
    from tenku.vae import VideoVAE

    vae, cfg = load_component(resolve_checkpoint(path, "vae"), "vae", VideoVAE, VAEConfig)
    mine, theirs = trained_on.encoder.state_dict(), vae.encoder.state_dict()
    differ = [k for k in mine if k not in theirs or not torch.equal(mine[k].float(), theirs[k].float())]
    stats = (cfg.latent_shift, cfg.latent_scale) != (trained_on.cfg.latent_shift, trained_on.cfg.latent_scale)
    if differ or stats or mine.keys() != theirs.keys():
        raise TenkuError(f"--vae {path}: its encoder or latent statistics differ from those the DiT trained on "
                         f"({len(differ)} encoder tensors differ); only a decoder fine-tune (--freeze-encoder) can be swapped in")
    return vae


def parse_sample(parser: argparse.ArgumentParser, items: list[str]) -> dict:
    """--sample NAME=VALUE items -> {name: value typed as the SampleConfig field}, or a parser error naming the item."""
    from dataclasses import fields

    from tenku.config import SampleConfig

    types = {f.name: type(getattr(SampleConfig(), f.name)) for f in fields(SampleConfig)}
    out = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in types or name in ("guidance", "steps"):
            parser.error(f"--sample {item!r}: give NAME=VALUE with NAME a SampleConfig field other than guidance and "
                         f"steps (those have their own flags): {', '.join(n for n in types if n not in ('guidance', 'steps'))}")
        try:
            out[name] = types[name](text)
        except ValueError:
            parser.error(f"--sample {item!r}: {text!r} is not a {types[name].__name__}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dit_runs", type=Path, nargs="*",
                        help="the DiT runs in order; the last one is shipped (none: --after's DiT, unchanged)")
    parser.add_argument("--vae-run", type=Path, action="append", default=[], help="the VAE runs in order")
    parser.add_argument("--after", type=Path, default=None,
                        help="a shipped model folder whose logs hold the earlier stages (their runs may be gone)")
    parser.add_argument("--card", type=Path, default=ROOT / "runs" / "tenku-world-card.md")
    parser.add_argument("--vae", type=Path, default=None,
                        help="ship this VAE (same encoder as the DiT's, a decoder fine-tune) instead of the DiT's own")
    parser.add_argument("--dest", type=Path, default=DEST, help="where to write (default: the package's model)")
    parser.add_argument("--device-note", default="2-core x86_64 CPU, no GPU, torch 2.13.0 (CPU)")
    parser.add_argument("--guidance", type=float, default=None,
                        help="the shipped model's default guidance scale (default: the run's); pick it by measurement")
    parser.add_argument("--steps", type=int, default=None, help="the shipped model's default denoising steps")
    parser.add_argument("--dit-storage", choices=["float16", "int8"], default="float16",
                        help="how the DiT's weights are stored: int8 keeps each weight matrix as int8 with a scale per "
                             "row (half the bytes; measure it with benchmarks/world_quality.py first)")
    parser.add_argument("--sample", action="append", default=[], metavar="NAME=VALUE",
                        help="another SampleConfig default of the shipped model, e.g. end_latent_frames=2 (repeatable)")
    args = parser.parse_args()
    sample = parse_sample(parser, args.sample)
    if not args.vae_run and args.after is None:
        parser.error("give the VAE runs (--vae-run, repeatable) or --after a shipped model whose logs hold them")
    before = {name: shipped_stages(args.after, name) if args.after is not None else [] for name in ("vae", "dit")}
    if args.guidance is not None and not args.guidance >= 1:
        parser.error(f"--guidance must be 1 or more (1 = no guidance), got {args.guidance}")
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be 1 or more, got {args.steps}")

    if not args.dit_runs and (args.after is None or args.vae is None):
        parser.error("give the DiT runs, or --after a shipped model and --vae to ship its DiT with a new decoder")

    from tenku.checkpoint import load_manifest
    from tenku.pipeline import Pipeline

    last = args.dit_runs[-1] if args.dit_runs else None
    pipe = Pipeline.from_pretrained(last if last is not None else args.after)
    if args.vae is not None:
        pipe.vae = same_latents_vae(pipe.vae, args.vae)
    manifest = load_manifest(last / "model" if last is not None else args.after)
    shipped_step = manifest.get("train", {}).get("step") if last is not None else None
    logs = {}  # "vae" / "dit" -> one list of rows per stage, earlier shipped stages first
    for name, runs in (("vae", args.vae_run), ("dit", args.dit_runs)):
        logs[name] = before[name] + [read_log(run / "log.jsonl", shipped_step if run == last else None) for run in runs]
    rows = ["| stage | steps | clips seen | compute (h) | last 20 logs |", "|---|---|---|---|---|"]
    for name, stages, keys in (("VAE", logs["vae"], ("loss", "hard", "psnr", "ssim", "kl")), ("DiT", logs["dit"], ("loss",))):
        for k, stage in enumerate(stages, 1):
            log = log_summary(stage)
            label = f"{name} {k}" if len(stages) > 1 else name
            rows.append(
                f"| {label} | {log['steps']:,} | {log['clips']:,.0f} | {log['hours']:.2f} | "
                + ", ".join(f"{key} {v:.4g}" for key, v in log["last"].items() if key in keys) + " |"
            )
    card = args.card.read_text() if args.card.is_file() else "# tenku-world\n"
    card += "\n## Training, from the logs\n\n" + "\n".join(rows) + f"\n\nCompute: {args.device_note}.\n"

    from tenku.checkpoint import save_pipeline

    extra = {k: v for k, v in manifest["components"].items() if k not in ("vae", "dit")}
    info = {k: v for k, v in manifest.items() if k not in ("format", "version", "components")}
    for key, value in (("guidance", args.guidance), ("steps", args.steps), *sample.items()):
        if value is not None:
            info.setdefault("sample", {})[key] = value
    files = {
        f"logs/{name}.jsonl": "\n".join(json.dumps({"stage": k, **row}) for k, stage in enumerate(stages, 1) for row in stage) + "\n"
        for name, stages in logs.items()
    }
    save_pipeline(args.dest, {"vae": (pipe.vae, pipe.vae.cfg), "dit": (pipe.dit, pipe.dit.cfg)}, extra=extra, card=card,
                  dtype={"vae": torch.float16, "dit": getattr(torch, args.dit_storage)}, info=info, files=files)
    size = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"wrote {args.dest} ({size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
