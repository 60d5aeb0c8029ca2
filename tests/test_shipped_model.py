"""The model shipped inside the package (tenku/weights/tenku-world): it loads by default, is small, stores fp16,
and `tenku generate` uses it with no --model. Its quality is measured by benchmarks/world_quality.py, not here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors import safe_open
from typer.testing import CliRunner

from tenku.pipeline import DEFAULT_MODEL, Pipeline

pytestmark = pytest.mark.skipif(not (DEFAULT_MODEL / "manifest.json").is_file(), reason="no shipped model here")


def test_shipped_model_is_small_fp16_and_documented():
    size = sum(p.stat().st_size for p in DEFAULT_MODEL.rglob("*") if p.is_file())
    assert size < 32 * 2**20, f"the shipped model is {size / 2**20:.1f} MB; keep it about 30 MB"
    for name in ("vae", "dit"):
        with safe_open(str(DEFAULT_MODEL / name / "model.safetensors"), "pt") as f:
            dtypes = {str(f.get_slice(k).get_dtype()) for k in f.keys()}
        assert dtypes == {"F16"}, (name, dtypes)
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    assert set(manifest["components"]) >= {"vae", "dit", "text"}
    card = (DEFAULT_MODEL / "README.md").read_text()
    assert "## Measured quality" in card and "## Training, from the logs" in card
    for log in ("vae.jsonl", "dit.jsonl"):
        rows = [json.loads(line) for line in (DEFAULT_MODEL / "logs" / log).read_text().splitlines()]
        assert rows and rows[-1]["step"] > 0


def test_default_pipeline_generates_a_clip():
    pipe = Pipeline.from_pretrained()
    video = pipe("a small blue ball bounces to the left in front of a wall", seconds=1, steps=2, seed=3)
    frames = np.asarray(video.frames)
    assert frames.shape == (9, 64, 64, 3) and frames.dtype == np.uint8
    assert frames.std() > 1.0  # a picture, not a blank
    again = pipe("a small blue ball bounces to the left in front of a wall", seconds=1, steps=2, seed=3)
    assert np.array_equal(frames, np.asarray(again.frames))


def test_generate_cli_needs_no_model_flag(tmp_path):
    from tenku.cli import app

    out = tmp_path / "ball.mp4"
    result = CliRunner().invoke(app, ["generate", "a red ball rolls to the right on green grass", "-o", str(out),
                                      "--seconds", "1", "--steps", "2"])
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.stat().st_size > 1000
