"""The GPU stage of the recipe (runs/gpu_world.py, runs/pack_text.py), run on the CPU at toy size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runs"))


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("text")
    subprocess.run([sys.executable, str(ROOT / "runs" / "pack_text.py"), str(out), "--scenes", "60"], check=True,
                   capture_output=True)
    return out


def test_packed_text_encoder_matches_minilm(packed):
    from gpu_world import PackedTokenizer, load_packed_text, text_states

    from tenku.text import load_text_encoder
    from tenku.world.captions import captions, long_caption
    from tenku.world.sample import random_scene

    texts = [""]
    for i in range(6):
        rng = np.random.default_rng([5, i])
        scene = random_scene(rng, core=True, seconds=4.125)
        texts += captions(scene, rng, n=2) + [long_caption(scene)]
    tok = PackedTokenizer(packed)
    ids, mask, unknown = tok(texts)
    reference = load_text_encoder()
    ref = reference.tokenizer(texts, padding="max_length", truncation=True, max_length=64, return_tensors="pt")
    assert unknown == 0
    assert np.array_equal(ids, tok.remap[ref["input_ids"].numpy()])
    assert np.array_equal(mask, ref["attention_mask"].numpy().astype(bool))
    states = text_states(load_packed_text(packed, torch.device("cpu")), torch.from_numpy(ids), torch.from_numpy(mask))
    expected, _ = reference.encode(texts)
    assert (states - expected).abs().max() < 0.02  # fp16 storage of the weights
    # a word no world caption uses is counted as unknown, not silently dropped
    assert tok(["a zebra dances"])[2] > 0


@pytest.mark.slow
@pytest.mark.parametrize("transfer", ["auto", "pickle"])
def test_streamed_run_trains_saves_and_assembles(packed, tmp_path, transfer):
    out, into = tmp_path / "run", tmp_path / "ship"
    cmd = [sys.executable, str(ROOT / "runs" / "gpu_world.py"), "--device", "cpu", "--text", str(packed), "--out", str(out),
           "--seconds", "4", "--batch-size", "2", "--workers", "1", "--min-pool", "4", "--pool", "64", "--chunk", "2",
           "--log-every", "1", "--vae-batch", "1", "--vae-frames", "5", "--warmup-steps", "2",
           "--buckets", "5x64x64:1", "--pixel-share", "1", "--wide-share", "0.5", "--transfer", transfer]
    depth = json.loads((ROOT / "tenku" / "weights" / "tenku-world" / "dit" / "config.json").read_text())["depth"]
    if transfer == "pickle":  # the other run keeps the shipped DiT's depth; this one grows it by a block
        depth += 1
        cmd += ["--grow-depth", str(depth)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=600)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"] and summary["step"] >= 1 and summary["clips_rendered"] >= 4
    assert summary["transfer"] in (("shm", "pickle") if transfer == "auto" else ("pickle",))
    assert summary["unknown_tokens"] == 0  # the packed vocabulary covers the whole world's captions
    assert sorted(p.name for p in out.glob("*.safetensors")) == [
        "dit_ema_0.safetensors", "dit_ema_1.safetensors", "dit_raw_0.safetensors", "dit_raw_1.safetensors",
        "vae_ema_0.safetensors"]
    assert not list(out.glob("*.tmp"))  # nothing half-written left behind
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert rows[-1]["step"] == summary["step"]  # the last interval is logged too
    subprocess.run([sys.executable, str(ROOT / "runs" / "gpu_world.py"), "--assemble", str(out), "--into", str(into)],
                   check=True, capture_output=True)
    from tenku.checkpoint import load_component
    from tenku.config import DiTConfig
    from tenku.dit import DiT
    from gpu_world import load_split

    dit, cfg = load_component(into / "model", "dit", DiT, DiTConfig)
    assert cfg.depth == depth == summary["dit_config"]["depth"]
    saved = load_split(out, "dit_ema")
    assert all(torch.equal(dit.state_dict()[k].half(), v) for k, v in saved.items())
    assert (into / "log.jsonl").is_file() and (into / "vae" / "log.jsonl").is_file()
