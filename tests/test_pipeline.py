import json
import shutil

import numpy as np
import pytest
import torch

from tenku.config import TrainConfig
from tenku.errors import CheckpointError, PromptError, TenkuError
from tenku.pipeline import GeneratedVideo, Pipeline, round_frames, round_size
from tenku.train import train
from tenku.video import Video


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A debug pipeline trained for a few steps on synthetic clips: VAE, then DiT on its cached latents."""
    root = tmp_path_factory.mktemp("ckpt")
    common = dict(data="synthetic", clips=4, steps=3, batch_size=2, warmup_steps=1, log_every=10, ckpt_every=10)
    train(TrainConfig(model="vae", out=str(root / "vae"), buckets=("5x32x32",), **common))
    return train(TrainConfig(model="dit", out=str(root / "dit"), vae=str(root / "vae"), buckets=("9x32x32",), **common))


@pytest.fixture(scope="module")
def pipe(checkpoint):
    return Pipeline.from_pretrained(checkpoint)


def test_round_frames():
    assert round_frames(4, 8) == (33, round_frames(4, 8)[1])
    assert "made 33 (4.12 s)" in round_frames(4, 8)[1]
    assert round_frames(9 / 8, 8) == (9, None)
    assert round_frames(0.01, 8)[0] == 1  # one frame: an image
    assert round_frames(2.3, 8)[0] == 17  # 18.4 -> 17, the nearest 4k + 1
    assert round_frames(3, 1)[0] == 5  # a tie between 1 and 5 rounds up


def test_round_size():
    assert round_size(64, 48, 16) == (64, 48, None)
    assert round_size(70, 40, 16) == (64, 48, "size 70x40 rounded to 64x48 (this model needs multiples of 16)")
    with pytest.raises(TenkuError, match="width must be between 16 and 2048 pixels, got 8"):
        round_size(8, 64, 16)
    with pytest.raises(TenkuError, match="height must be between 16 and 2048 pixels, got 64000"):
        round_size(64, 64000, 16)


def test_generate_shapes_defaults_and_notes(pipe, checkpoint):
    video = pipe("a red square moves right", steps=2)
    assert isinstance(video, Video) and isinstance(video, GeneratedVideo)
    assert video.frames.shape == (9, 32, 32, 3) and video.frames.dtype == np.uint8  # the checkpoint's defaults
    assert video.fps == 8 and video.notes == [] and video.seed == 0
    video = pipe("a red square moves right", seconds=0.5, size=(40, 24), fps=8, steps=2)
    assert video.frames.shape == (5, 32, 48, 3)
    assert video.notes == [
        "0.5 s at 8 fps is 4 frames; made 5 (0.625 s), since the video VAE needs 4k + 1 frames",
        "size 40x24 rounded to 48x32 (this model needs multiples of 16)",
    ]


def test_same_seed_same_video(pipe):
    a = pipe("a blue square moves left", seed=7, steps=3)
    b = pipe("a blue square moves left", seed=7, steps=3)
    c = pipe("a blue square moves left", seed=8, steps=3)
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, c.frames)


def test_noise_depends_on_the_seed_only(pipe):
    torch.manual_seed(123)  # global RNG state must not matter
    a = pipe.prepare_latents(9, 32, 32, seed=3)
    torch.manual_seed(456)
    assert torch.equal(a, pipe.prepare_latents(9, 32, 32, seed=3))
    assert a.shape == (1, 4, 3, 4, 4)


def test_callback_and_guidance(pipe):
    calls = []
    pipe("a red square moves right", steps=3, callback=lambda step, total: calls.append((step, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    plain = pipe("a red square moves right", steps=2, guidance=1.0)
    steered = pipe("a red square moves right", steps=2, guidance=4.0, negative_prompt="a green square")
    assert plain.frames.shape == steered.frames.shape


def test_long_prompt_is_truncated_with_a_note(pipe):
    video = pipe("a red square moves right " * 20, steps=1)
    assert video.notes == ["prompt truncated to 64 tokens (it has 102); words after 'right a red' are ignored"]


def test_known_frames_come_back_exactly(pipe):
    """The path every creative mode uses: latent frames held clean by `known`/`known_mask`."""
    req = pipe.check_inputs("a red square", size=(32, 32), seconds=9 / 8)
    text, mask, null, null_mask = pipe.encode_prompt("a red square", "", [])
    noise = pipe.prepare_latents(req.frames, req.height, req.width, seed=0)
    known = pipe.encode(np.full((req.frames, 32, 32, 3), 200, np.uint8))
    known_mask = torch.tensor([[True, False, False]])
    out = pipe._generate(text, mask, null, null_mask, noise, steps=2, guidance=2.0, known=known, known_mask=known_mask)
    assert torch.equal(out[:, :, 0], known[:, :, 0]) and not torch.equal(out[:, :, 1], known[:, :, 1])
    remix = pipe._generate(text, mask, null, null_mask, noise, steps=2, guidance=2.0, init=known, t_start=0.5)
    assert remix.shape == known.shape


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"prompt": ""}, PromptError, "the prompt is empty"),
        ({"prompt": "   "}, PromptError, "the prompt is empty"),
        ({"seconds": 0}, TenkuError, "seconds must be positive, got 0"),
        ({"seconds": -1}, TenkuError, "seconds must be positive"),
        ({"seconds": 1000}, TenkuError, "more than 1025 frames"),
        ({"fps": 0}, TenkuError, "fps must be positive"),
        ({"size": (8, 32)}, TenkuError, "width must be between 16 and 2048 pixels, got 8"),
        ({"size": (32, 32), "width": 32}, TenkuError, "either size"),
        ({"steps": 0}, TenkuError, "steps must be a positive whole number"),
        ({"guidance": -1}, TenkuError, "guidance must be 0 or more"),
        ({"seed": -3}, TenkuError, "seed must be a whole number"),
    ],
)
def test_bad_inputs_are_one_line_errors(pipe, kwargs, error, match):
    kwargs = {"prompt": "a red square", "steps": 1, **kwargs}
    with pytest.raises(error, match=match) as e:
        pipe(kwargs.pop("prompt"), **kwargs)
    assert "\n" not in str(e.value)


def test_missing_default_model_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr("tenku.pipeline.DEFAULT_MODEL", tmp_path / "tenku-world")
    with pytest.raises(CheckpointError, match="no default model is installed at .*tenku train vae .*tenku train dit"):
        Pipeline.from_pretrained()
    with pytest.raises(CheckpointError, match="does not exist; train one with `tenku train vae`"):
        Pipeline.from_pretrained(tmp_path / "nowhere")


def test_corrupt_and_incompatible_checkpoints(checkpoint, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(checkpoint, bad)
    weights = bad / "dit" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="dit/model.safetensors is not a readable safetensors file"):
        Pipeline.from_pretrained(bad)

    shutil.rmtree(bad)
    shutil.copytree(checkpoint, bad)
    cfg = json.loads((bad / "dit" / "config.json").read_text())
    (bad / "dit" / "config.json").write_text(json.dumps({**cfg, "dim": 96, "heads": 2}))
    with pytest.raises(CheckpointError, match=r"incompatible config: dit\..* expected .*96.*, got .*64"):
        Pipeline.from_pretrained(bad)

    (bad / "dit" / "config.json").write_text(json.dumps({**cfg, "depht": 3}))
    with pytest.raises(CheckpointError, match=r"unknown DiTConfig keys \['depht'\]"):
        Pipeline.from_pretrained(bad)

    (bad / "dit" / "config.json").write_text(json.dumps(cfg))
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["components"]["text"]["sha256"] = "f" * 64
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"checkpoint was trained with ffffffffffff"):
        Pipeline.from_pretrained(bad)

    shutil.rmtree(bad / "vae")
    with pytest.raises(CheckpointError, match="has no 'vae' component"):
        Pipeline.from_pretrained(bad)


def test_run_folder_or_model_folder(checkpoint):
    assert Pipeline.from_pretrained(checkpoint.parent).defaults == Pipeline.from_pretrained(checkpoint).defaults
    with pytest.raises(CheckpointError, match="has no 'dit' component; pass the --out of `tenku train dit`"):
        Pipeline.from_pretrained(checkpoint.parent.parent / "vae")
