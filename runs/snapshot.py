"""Keep a milestone of a training run in the repository, small: its exported model as fp16 plus its log.

    python3 runs/snapshot.py RUNS/vae-2 runs/checkpoints/vae-2

Writes DEST atomically: the run's `model/` folder (every component stored as fp16, loaded back as fp32) and
`log.jsonl`. Training continues from it with `tenku train vae|dit --init DEST` when the run folder itself (kept
outside the repository, with its optimizer state) is gone. The shipped model is made by runs/ship.py instead.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", type=Path)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args()

    from tenku.checkpoint import load_component, load_manifest, save_pipeline
    from tenku.config import DiTConfig, VAEConfig
    from tenku.dit import DiT
    from tenku.vae import VideoVAE

    model = args.run / "model"
    manifest = load_manifest(model)
    kinds = {"vae": (VideoVAE, VAEConfig), "dit": (DiT, DiTConfig)}
    modules = {name: load_component(model, name, *kinds[name]) for name in manifest["components"] if name in kinds}
    extra = {k: v for k, v in manifest["components"].items() if k not in kinds}
    info = {k: v for k, v in manifest.items() if k not in ("format", "version", "components")}
    card = (model / "README.md").read_text() if (model / "README.md").is_file() else ""
    save_pipeline(args.dest, modules, extra=extra, card=card, dtype=torch.float16, info=info)
    shutil.copy(args.run / "log.jsonl", args.dest / "log.jsonl")
    size = sum(p.stat().st_size for p in args.dest.rglob("*") if p.is_file())
    print(f"wrote {args.dest} ({size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
