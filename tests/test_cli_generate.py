import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tenku.cli import main
from tenku.video import read_image, read_video


def run(monkeypatch, *args) -> int:
    """`tenku ARGS` in this process (the text encoder stays loaded); returns the exit code."""
    monkeypatch.setattr(sys, "argv", ["tenku", *args])
    try:
        main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """`tenku train vae` then `tenku train dit`, a few steps each on synthetic clips, through the CLI."""
    root = tmp_path_factory.mktemp("runs")
    mp = pytest.MonkeyPatch()
    common = ["--data", "synthetic", "--clips", "4", "--steps", "3", "--batch-size", "2", "--warmup-steps", "1", "--log-every", "1"]
    try:
        assert run(mp, "train", "vae", "--out", str(root / "vae"), "--buckets", "5x32x32", *common) == 0
        assert run(mp, "train", "dit", "--out", str(root / "dit"), "--vae", str(root / "vae"), "--buckets", "9x32x32,5x16x16", *common) == 0
    finally:
        mp.undo()
    return root


def test_train_flags_map_onto_the_config(model):
    rows = [json.loads(line) for line in (model / "dit" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    cfg = json.loads((model / "dit" / "model" / "manifest.json").read_text())["train"]["config"]
    assert cfg["model"] == "dit" and cfg["buckets"] == ["9x32x32", "5x16x16"] and cfg["batch_size"] == 2


def test_generate_writes_an_mp4(model, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out.mp4"
    code = run(monkeypatch, "generate", "a red square moves right", "-o", str(out), "--model", str(model / "dit"),
               "--seconds", "1", "--size", "40x32", "--steps", "2", "--seed", "3")
    assert code == 0
    frames, fps = read_video(out)
    assert frames.shape == (9, 32, 48, 3) and fps == 8
    text = capsys.readouterr().out
    assert "made 9" in text and "rounded to 48x32" in text and f"wrote {out}" in text


def test_same_seed_same_image(model, tmp_path, monkeypatch):
    # compared as PNGs (the first frame): multithreaded x264 does not always give the same bytes for the same frames
    args = ["a blue square", "--model", str(model / "dit"), "--steps", "2"]
    assert run(monkeypatch, "generate", *args, "--seed", "5", "-o", str(tmp_path / "a.png")) == 0
    assert run(monkeypatch, "generate", *args, "--seed", "5", "-o", str(tmp_path / "b.png")) == 0
    assert run(monkeypatch, "generate", *args, "--seed", "6", "-o", str(tmp_path / "c.png")) == 0
    a, b, c = (read_image(tmp_path / f"{n}.png") for n in "abc")
    assert a.shape == (32, 32, 3) and np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    "args, message",
    [
        (["", "--steps", "1"], "the prompt is empty"),
        (["a ball", "--seconds", "0"], "seconds must be positive, got 0"),
        (["a ball", "--size", "64by64"], "--size must look like WIDTHxHEIGHT"),
        (["a ball", "--size", "4x64"], "width must be between 16 and 2048 pixels, got 4"),
        (["a ball", "-o", "out.avi"], "-o must end in .mp4"),
    ],
)
def test_generate_errors_are_one_line(model, tmp_path, monkeypatch, capsys, args, message):
    code = run(monkeypatch, "generate", *args, "--model", str(model / "dit"))
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("error:") and message in err and len(err.splitlines()) == 1, err


def test_missing_and_incompatible_checkpoints(model, tmp_path, monkeypatch, capsys):
    assert run(monkeypatch, "generate", "a ball", "--model", str(tmp_path / "none")) == 2
    assert "does not exist; train one with `tenku train vae`" in capsys.readouterr().err
    assert run(monkeypatch, "generate", "a ball", "--model", str(model / "vae")) == 2
    assert "has no 'dit' component" in capsys.readouterr().err
    assert run(monkeypatch, "train", "dit", "--out", str(model / "dit"), "--vae", str(model / "vae"), "--batch-size", "4",
               "--data", "synthetic", "--clips", "4") == 2
    assert "holds a run with batch_size=2, this one has batch_size=4" in capsys.readouterr().err


@pytest.mark.slow
def test_generate_in_a_fresh_process(model, tmp_path):
    out = tmp_path / "fresh.mp4"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "tenku.cli", "generate", "a red square", "-o", str(out), "--model", str(model / "dit"), "--steps", "2"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_video(out)[0].shape == (9, 32, 32, 3)
