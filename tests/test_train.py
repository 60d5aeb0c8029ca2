import json
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from tenku.config import TrainConfig, VAEConfig
from tenku.data import (
    Bucket,
    BucketSchedule,
    FolderSource,
    LatentBatches,
    PixelBatches,
    SyntheticSource,
    build_latent_cache,
    fit_clip,
    parse_bucket,
)
from tenku.errors import CheckpointError, TenkuError
from tenku.train import DiTTask, Dist, Trainer, VAETask, train
from tenku.video import write_video

# --- buckets and the schedule -----------------------------------------------------------------------------------


def test_parse_bucket():
    assert parse_bucket("17x64x48") == Bucket(17, 64, 48)
    assert parse_bucket("17x64x48").latent_shape == (5, 8, 6)
    with pytest.raises(TenkuError, match="frames - 1 must be divisible by 4, got 16; use 17"):
        parse_bucket("16x64x64")
    with pytest.raises(TenkuError, match="width must be a positive multiple of 16, got 44; use 48"):
        parse_bucket("17x64x44", multiple=16)
    with pytest.raises(TenkuError, match="FRAMESxHEIGHTxWIDTH"):
        parse_bucket("17x64")


def test_schedule_is_deterministic_one_bucket_per_batch_and_covers_every_clip():
    sched = BucketSchedule([10, 7], batch_size=4, seed=3)
    again = BucketSchedule([10, 7], batch_size=4, seed=3)
    steps = [sched(s) for s in range(40)]
    assert steps == [again(s) for s in reversed(range(40))][::-1]  # a pure function of the step, in any order
    assert [b for b, _ in steps[:4]] == [0, 1, 0, 1]  # buckets take turns
    for b, positions in steps:
        assert len(positions) == 4 and all(0 <= p < [10, 7][b] for p in positions)
    seen = [p for b, ps in steps if b == 0 for p in ps][:10]  # the first epoch of bucket 0
    assert sorted(seen) == list(range(10))
    assert steps != [BucketSchedule([10, 7], 4, seed=4)(s) for s in range(40)]
    # two ranks split each global batch
    r0, r1 = BucketSchedule([10, 7], 4, 3, rank=0, world_size=2), BucketSchedule([10, 7], 4, 3, rank=1, world_size=2)
    for s in range(6):
        b, full = sched(s)
        assert r0(s) == (b, full[0::2]) and r1(s) == (b, full[1::2])


def test_pixel_batches_from_two_buckets():
    buckets = [Bucket(5, 16, 32), Bucket(9, 32, 16)]
    batches = PixelBatches(SyntheticSource(seed=0, clips=6), buckets, batch_size=3, seed=0)
    a, b = batches(0), batches(1)
    assert a["video"].shape == (3, 3, 5, 16, 32) and a["bucket"] == buckets[0]
    assert b["video"].shape == (3, 3, 9, 32, 16) and b["bucket"] == buckets[1]
    assert a["video"].dtype == torch.float32 and -1 <= a["video"].min() and a["video"].max() <= 1
    assert torch.equal(batches(2)["video"], PixelBatches(SyntheticSource(0, 6), buckets, 3, 0)(2)["video"])


def test_fit_clip_resamples_crops_and_resizes():
    frames = np.zeros((24, 30, 60, 3), np.uint8)
    frames[:, :, 15:45] = 200  # the centre square survives a centre crop to 1:1
    frames[:, 0, 0, 0] = np.arange(24)  # frame index, to follow the resampling
    out = fit_clip(frames, src_fps=24, bucket=Bucket(5, 16, 16), fps=8)
    assert out.shape == (5, 16, 16, 3) and out.dtype == np.uint8
    assert (out > 150).mean() > 0.95
    raw = fit_clip(frames[:, :16, :16], src_fps=24, bucket=Bucket(5, 16, 16), fps=8)
    assert raw[:, 0, 0, 0].tolist() == [0, 3, 6, 9, 12]


def test_folder_source(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "clips").mkdir()
    rows = []
    for i, n in enumerate([9, 17, 3]):
        write_video(tmp_path / "clips" / f"{i}.mp4", rng.integers(0, 255, (n, 32, 48, 3), dtype=np.uint8), fps=8)
        rows.append({"file": f"clips/{i}.mp4", "captions": [f"clip {i}", f"clip number {i}"], "seed": i})
    (tmp_path / "captions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    src = FolderSource(tmp_path, fps=8)
    assert len(src) == 3
    assert src.eligible(Bucket(9, 32, 32)) == [0, 1] and src.eligible(Bucket(17, 32, 32)) == [1]
    clip = src.get(1, Bucket(17, 16, 16))
    assert clip.frames.shape == (17, 16, 16, 3) and clip.captions == ["clip 1", "clip number 1"]
    with pytest.raises(TenkuError, match="no captions.jsonl"):
        FolderSource(tmp_path / "clips", fps=8)


def test_world_source():
    pytest.importorskip("tenku.world.dataset")
    from tenku.data import WorldSource

    src = WorldSource(seed=0, fps=8, clips=3)
    a, b = src.get(1, Bucket(9, 32, 48)), src.get(1, Bucket(9, 32, 48))
    assert a.frames.shape == (9, 32, 48, 3) and a.frames.dtype == np.uint8
    assert np.array_equal(a.frames, b.frames) and a.captions == b.captions and a.captions[0]
    assert not np.array_equal(a.frames, src.get(2, Bucket(9, 32, 48)).frames)


@pytest.mark.parametrize("wide", [False, True])
def test_world_sources_never_show_a_held_out_combination(wide):
    from tenku.data import HELD_OUT_COLOR_SHAPES, HELD_OUT_MOTION_SETTINGS, CoreWorldSource, WideWorldSource, is_held_out
    from tenku.world.parse import parse_prompt
    from tenku.world.sample import CORE_SETTINGS, random_scene

    src = (WideWorldSource if wide else CoreWorldSource)(seed=0, fps=8, clips=40)
    seen_pairs, settings, most = set(), set(), 0
    for i in range(40):
        clip = src.get(i, Bucket(9, 32, 32))
        assert clip.frames.shape == (9, 32, 32, 3) and len(clip.captions) == 4
        for caption in clip.captions:
            q = parse_prompt(caption)
            for o in q.objects:
                assert (o.color, o.shape) not in HELD_OUT_COLOR_SHAPES, caption
                assert (o.motion, q.setting) not in HELD_OUT_MOTION_SETTINGS, caption
                seen_pairs.add((o.color, o.shape))
            settings.add(q.setting)
            most = max(most, len(q.objects))
    assert len(seen_pairs) > 10  # the filter removes combinations, not whole colours or shapes
    # the core stays in its three settings and two objects; the wide world goes past them
    assert (settings <= set(CORE_SETTINGS) and most <= 2) != wide, (settings, most)
    # the unfiltered core world does draw held-out scenes, so the filter is doing something
    rng = np.random.default_rng(0)
    assert any(is_held_out(random_scene(rng, core=True)) for _ in range(50))


def test_focus_grid_maps_object_pixels_onto_the_causal_latent_grid():
    from tenku.data import focus_grid

    focus = np.zeros((9, 16, 16), dtype=bool)
    focus[0, 0, 0] = True     # frame 0 -> latent frame 0, cell (0, 0)
    focus[3, 9, 15] = True    # frames 1-4 -> latent frame 1, cell (1, 1)
    focus[8, 8, 0] = True     # frames 5-8 -> latent frame 2, cell (1, 0)
    grid = focus_grid(focus, 3, 2, 2)
    expected = torch.zeros(3, 2, 2)
    expected[0, 0, 0] = expected[1, 1, 1] = expected[2, 1, 0] = 1
    assert torch.equal(grid, expected)
    assert torch.equal(focus_grid(focus[:1], 1, 2, 2), expected[:1])  # an image
    with pytest.raises(TenkuError, match="focus of 9x16x16 pixels does not map onto a 4x2x2 latent grid"):
        focus_grid(focus, 4, 2, 2)


def test_world_sources_mark_the_object_pixels():
    from tenku.data import CoreWorldSource, WorldSource

    for src in (CoreWorldSource(seed=0, fps=8, clips=4), WorldSource(seed=0, fps=8, clips=4)):
        for i in range(4):
            clip = src.get(i, Bucket(9, 32, 32))
            assert clip.focus.shape == (9, 32, 32) and clip.focus.dtype == bool
            share = clip.focus.mean()
            assert 0.0 < share < 0.5, (src.name, i, share)  # objects, on a background that is most of the frame
    square = SyntheticSource(0, 1).get(0, Bucket(5, 16, 16))
    painted = (square.frames != 235).any(axis=-1)
    assert np.array_equal(square.focus, painted)


def test_latent_cache_round_trip(tmp_path):
    buckets = [Bucket(5, 16, 16), Bucket(9, 16, 32)]
    calls = []

    def encode(video):  # a stand-in VAE: mean = the first 4 channels' block averages
        calls.append(video.shape)
        m = torch.nn.functional.avg_pool3d(video, (4, 8, 8), ceil_mode=True)
        return m, torch.full_like(m, -2.0)

    def encode_text(captions):
        states = torch.tensor([[float(len(c))] * 3 for c in captions])[:, None].expand(-1, 4, -1)
        return states.contiguous(), torch.ones(len(captions), 4, dtype=torch.bool)

    key = {"v": 1}
    folder = build_latent_cache(tmp_path / "latents", SyntheticSource(0, 5), buckets, encode, encode_text, key, batch_size=2)
    assert len(calls) == 6  # 3 encode batches per bucket
    build_latent_cache(folder, SyntheticSource(0, 5), buckets, encode, encode_text, key, batch_size=2)
    assert len(calls) == 6, "a matching cache is reused"
    batches = LatentBatches(folder, buckets, batch_size=2, seed=0)
    b0, b1 = batches(0), batches(1)
    assert b0["mean"].shape == (2, 3, 2, 2, 2) and b1["mean"].shape == (2, 3, 3, 2, 4)
    assert b0["text"].shape == (2, 4, 3) and b0["text_mask"].dtype == torch.bool
    assert (b0["logvar"] == -2).all()
    assert b0["focus"].shape == (2, 2, 2, 2) and b1["focus"].shape == (2, 3, 2, 4)
    assert set(b0["focus"].unique().tolist()) <= {0.0, 1.0} and b0["focus"].sum() > 0  # the squares' cells
    build_latent_cache(folder, SyntheticSource(0, 5), buckets, encode, encode_text, {"v": 2}, batch_size=2)
    assert len(calls) == 12, "a cache built for something else is rebuilt"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latents"]


# --- the trainer ------------------------------------------------------------------------------------------------


def vae_cfg(out: Path, **kw) -> TrainConfig:
    base = dict(model="vae", out=str(out), data="synthetic", clips=6, steps=6, batch_size=2, lr=1e-3,
                buckets=("5x16x16", "1x16x32"), log_every=1, ckpt_every=3, warmup_steps=2)
    return TrainConfig(**{**base, **kw})


def losses(out: Path) -> list[tuple[int, float, float]]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return [(r["step"], r["loss"], r["grad_norm"]) for r in rows]


class Killed(Exception):
    pass


def kill_at(step):
    def hook(trainer, metrics):
        if trainer.step == step:
            raise Killed

    return hook


def test_vae_resume_is_exact(tmp_path):
    full = train(vae_cfg(tmp_path / "a"))
    with pytest.raises(Killed):  # dies two steps after its checkpoint at step 3
        train(vae_cfg(tmp_path / "b"), hooks=[kill_at(5)])
    assert [s for s, _, _ in losses(tmp_path / "b")] == [1, 2, 3, 4, 5]
    train(vae_cfg(tmp_path / "b"))  # restarts from step 3
    a, b = losses(tmp_path / "a"), losses(tmp_path / "b")
    assert [s for s, _, _ in b] == [1, 2, 3, 4, 5, 6]
    assert a == b  # bitwise: losses and grad norms at every step
    for name in ("model/vae/model.safetensors", "state/optimizer.safetensors"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert full == tmp_path / "a" / "model"


def test_vae_export_and_schedule(tmp_path):
    from tenku.checkpoint import load_component, load_manifest
    from tenku.config import VAEConfig
    from tenku.vae import VideoVAE

    cfg = vae_cfg(tmp_path, steps=4, ckpt_every=10, warmup_steps=4, ema_decay=0.5)
    task = VAETask(cfg, Dist.single("cpu"))
    trainer = Trainer(cfg, task, Dist.single("cpu"))
    assert [trainer.lr_at(s) for s in range(5)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3])
    assert trainer.ema_decay_at(0) == pytest.approx(0.1) and trainer.ema_decay_at(100) == 0.5
    cool = Trainer(replace(cfg, steps=10, warmup_steps=2, cooldown_steps=4), task, Dist.single("cpu"))
    # warm-up over steps 0-1, constant, then the last 4 steps (6-9) scale the lr by 4/4, 3/4, 2/4, 1/4
    assert [cool.lr_at(s) for s in range(10)] == pytest.approx([5e-4] + [1e-3] * 6 + [7.5e-4, 5e-4, 2.5e-4])
    folder = trainer.fit()
    manifest = load_manifest(folder)
    assert set(manifest["components"]) == {"vae"} and manifest["train"]["step"] == 4
    vae, vcfg = load_component(folder, "vae", VideoVAE, VAEConfig)
    assert vcfg.latent_scale != 1.0 and vae.cfg == vcfg  # latent statistics measured at export
    saved = dict(vae.named_parameters())  # the EMA is what was saved, not the live weights
    for name, p in trainer.ema.named_parameters():
        assert torch.equal(saved[name], p)
    assert any(not torch.equal(saved[n], p) for n, p in trainer.model.named_parameters())


def test_resume_with_other_settings_is_refused(tmp_path):
    train(vae_cfg(tmp_path, steps=3))
    with pytest.raises(TenkuError, match="holds a run with batch_size=2, this one has batch_size=4"):
        train(vae_cfg(tmp_path, steps=6, batch_size=4))
    train(vae_cfg(tmp_path, steps=4))  # more steps is fine: training goes on
    assert [s for s, _, _ in losses(tmp_path)] == [1, 2, 3, 4]


def test_bad_train_settings(tmp_path):
    with pytest.raises(TenkuError, match="unknown vae preset 'vae-huge'"):
        train(vae_cfg(tmp_path, preset="vae-huge"))
    with pytest.raises(TenkuError, match="--batch-size must be at least 1"):
        train(vae_cfg(tmp_path, batch_size=0))
    with pytest.raises(TenkuError, match="--data must be 'world', 'world-core', 'world-wide', 'synthetic' or a folder"):
        train(vae_cfg(tmp_path, data=str(tmp_path / "nowhere")))
    with pytest.raises(TenkuError, match="needs --vae PATH"):
        train(vae_cfg(tmp_path, model="dit"))
    with pytest.raises(TenkuError, match="--focus-weight must be 0 or more, got -1.0"):
        train(vae_cfg(tmp_path, model="dit", focus_weight=-1.0))
    with pytest.raises(TenkuError, match=r"--cooldown-steps must be between 0 and --steps \(4\), got 5"):
        train(vae_cfg(tmp_path, steps=4, cooldown_steps=5))
    with pytest.raises(CheckpointError, match="does not exist; train one"):
        train(vae_cfg(tmp_path, model="dit", vae=str(tmp_path / "novae")))


@pytest.fixture(scope="module")
def trained_vae(tmp_path_factory):
    out = tmp_path_factory.mktemp("vae")
    train(vae_cfg(out, steps=2, buckets=("5x32x32",)))
    return out


def dit_cfg(out: Path, vae: Path, **kw) -> TrainConfig:
    base = dict(model="dit", out=str(out), vae=str(vae), data="synthetic", clips=6, steps=6, batch_size=3,
                buckets=("9x32x32", "5x16x32"), log_every=1, ckpt_every=3, warmup_steps=2)
    return TrainConfig(**{**base, **kw})


def test_dit_resume_is_exact_and_exports_a_pipeline(tmp_path, trained_vae):
    from tenku.checkpoint import load_manifest

    train(dit_cfg(tmp_path / "a", trained_vae))
    with pytest.raises(Killed):
        train(dit_cfg(tmp_path / "b", trained_vae), hooks=[kill_at(4)])
    train(dit_cfg(tmp_path / "b", trained_vae))
    a, b = losses(tmp_path / "a"), losses(tmp_path / "b")
    assert [s for s, _, _ in b] == [1, 2, 3, 4, 5, 6] and a == b
    manifest = load_manifest(tmp_path / "a" / "model")
    assert set(manifest["components"]) == {"vae", "dit", "text", "flow"}
    assert manifest["components"]["text"]["encoder"] == "minilm"
    assert manifest["sample"]["width"] == 32 and manifest["sample"]["fps"] == 8
    dit_config = json.loads((tmp_path / "a" / "model" / "dit" / "config.json").read_text())
    assert dit_config["text_dim"] == 384 and dit_config["in_channels"] == 4  # from the text encoder and the VAE
    assert sorted(p.name for p in (tmp_path / "a" / "latents").iterdir()) == ["5x16x32", "9x32x32", "meta.json", "texts.json", "texts.safetensors"]


def test_vae_focus_weight_weighs_object_pixels_and_a_ring_in_the_loss(tmp_path):
    task = VAETask(vae_cfg(tmp_path / "a", focus_weight=4.0, buckets=("5x16x16",)), Dist.single("cpu"))
    batch = task.batch(0)
    focus = batch["focus"]  # (B, F, H, W), the synthetic source's squares
    assert focus.shape == (2, 5, 16, 16) and focus.sum() > 0
    w = batch["weight"]
    assert torch.all(w[focus > 0] == 5.0)  # object pixels
    ring = (w == 5.0) & (focus == 0)  # the ring: beside an object pixel in the same frame, not one itself
    assert ring.any() and torch.all(w[(w != 5.0)] == 1.0)
    b, f, y, x = ring.nonzero()[0].tolist()
    assert focus[b, f, max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].any()
    a, metrics = task.objective(batch, torch.Generator().manual_seed(1))
    plain, _ = task.objective({k: v for k, v in batch.items() if k != "weight"}, torch.Generator().manual_seed(1))
    assert a.item() != plain.item() and "l1_plain" in metrics
    assert "weight" not in VAETask(vae_cfg(tmp_path / "b", buckets=("5x16x16",)), Dist.single("cpu")).batch(0)


def test_dit_focus_weight_reaches_the_loss(tmp_path, trained_vae):
    task = DiTTask(dit_cfg(tmp_path / "a", trained_vae, focus_weight=3.0), Dist.single("cpu"))
    batch = task.prepare(task.batch(0), torch.Generator().manual_seed(0))
    assert torch.equal(batch["weight"], 1.0 + 3.0 * batch["focus"]) and batch["focus"].sum() > 0
    plain = DiTTask(dit_cfg(tmp_path / "a", trained_vae), Dist.single("cpu"))
    assert plain.prepare(plain.batch(0), torch.Generator().manual_seed(0))["weight"] is None
    a, _ = task.objective(batch, torch.Generator().manual_seed(1))
    b, _ = task.objective({**batch, "weight": None}, torch.Generator().manual_seed(1))
    assert a.item() != b.item()
    faded = DiTTask(dit_cfg(tmp_path / "a", trained_vae, focus_weight=3.0, focus_fade=True), Dist.single("cpu"))
    fbatch = faded.prepare(faded.batch(0), torch.Generator().manual_seed(0))
    assert faded.objective.weight_fade is True and task.objective.weight_fade is False
    c, _ = faded.objective(fbatch, torch.Generator().manual_seed(1))
    assert c.item() not in (a.item(), b.item())
    with pytest.raises(TenkuError, match="--focus-fade fades the --focus-weight with the noise: give a --focus-weight above 0 too"):
        train(dit_cfg(tmp_path / "b", trained_vae, focus_fade=True))


def test_dit_bucket_must_fit_the_patch(tmp_path, trained_vae):
    with pytest.raises(TenkuError, match="bucket 9x24x32: height must be a positive multiple of 16, got 24; use 32"):
        train(dit_cfg(tmp_path, trained_vae, buckets=("9x24x32",)))


def test_vae_init_takes_weights_and_keeps_this_runs_loss(tmp_path, trained_vae):
    """Loss weights are the run's, not the network's: --init from a VAE trained with other ones works and
    the exported config records the weights this run trained with."""
    shutil.copytree(trained_vae / "model", tmp_path / "old")
    cfg_path = tmp_path / "old" / "vae" / "config.json"
    saved = json.loads(cfg_path.read_text())
    saved.pop("hard_weight"), saved.pop("hard_fraction")  # as written before the hard term existed
    saved["kl_weight"] = 1e-3
    cfg_path.write_text(json.dumps(saved))
    task = VAETask(vae_cfg(tmp_path / "a", steps=1, init=str(tmp_path / "old")), Dist.single("cpu"))
    assert task.vae_cfg.kl_weight == VAEConfig().kl_weight and task.vae_cfg.hard_weight == VAEConfig().hard_weight


def test_dit_init_starts_from_given_weights_and_refuses_another_network(tmp_path, trained_vae):
    from tenku.checkpoint import load_component
    from tenku.config import DiTConfig
    from tenku.dit import DiT

    first = train(dit_cfg(tmp_path / "a", trained_vae, steps=3))
    cfg = dit_cfg(tmp_path / "b", trained_vae, steps=1, init=str(tmp_path / "a"))  # a run folder, as after training
    task = DiTTask(cfg, Dist.single("cpu"))
    saved, _ = load_component(first, "dit", DiT, DiTConfig)
    for name, p in task.model.state_dict().items():
        assert torch.equal(p, saved.state_dict()[name]), name
    fresh = DiTTask(dit_cfg(tmp_path / "c", trained_vae, steps=1), Dist.single("cpu"))
    assert any(not torch.equal(p, saved.state_dict()[n]) for n, p in fresh.model.state_dict().items())
    with pytest.raises(TenkuError, match=r"is not the network of this run's preset \(it differs in depth, dim, heads\); pass the --preset"):
        DiTTask(dit_cfg(tmp_path / "d", trained_vae, steps=1, init=str(tmp_path / "a"), preset="dit-world"),
                Dist.single("cpu"))
    with pytest.raises(TenkuError, match="does not exist"):
        DiTTask(dit_cfg(tmp_path / "e", trained_vae, steps=1, init=str(tmp_path / "nowhere")), Dist.single("cpu"))


def test_snapshot_keeps_a_run_as_fp16_that_init_accepts(tmp_path, trained_vae):
    from safetensors import safe_open

    from tenku.checkpoint import load_component
    from tenku.vae import VideoVAE

    root = Path(__file__).resolve().parents[1]
    dest = tmp_path / "snap"
    subprocess.run([sys.executable, str(root / "runs" / "snapshot.py"), str(trained_vae), str(dest)], check=True)
    with safe_open(str(dest / "vae" / "model.safetensors"), "pt") as f:
        assert {str(f.get_slice(k).get_dtype()) for k in f.keys()} == {"F16"}
    assert (dest / "log.jsonl").read_text() == (trained_vae / "log.jsonl").read_text()
    task = VAETask(vae_cfg(tmp_path / "a", steps=1, init=str(dest)), Dist.single("cpu"))
    original, _ = load_component(trained_vae / "model", "vae", VideoVAE, VAEConfig)
    for name, p in task.model.state_dict().items():
        torch.testing.assert_close(p, original.state_dict()[name], atol=2e-3, rtol=2e-3)


def test_vae_freeze_encoder_trains_the_decoder_alone_and_keeps_the_latent_stats(tmp_path, trained_vae):
    from tenku.checkpoint import load_component
    from tenku.vae import VideoVAE

    before, before_cfg = load_component(trained_vae / "model", "vae", VideoVAE, VAEConfig)
    out = train(vae_cfg(tmp_path / "a", steps=3, lr=1e-2, init=str(trained_vae), freeze_encoder=True))
    after, after_cfg = load_component(out, "vae", VideoVAE, VAEConfig)
    for name, p in after.encoder.state_dict().items():
        assert torch.equal(p, before.encoder.state_dict()[name]), name
    assert any(not torch.equal(p, before.decoder.state_dict()[n]) for n, p in after.decoder.state_dict().items())
    assert (after_cfg.latent_shift, after_cfg.latent_scale) == (before_cfg.latent_shift, before_cfg.latent_scale)
    with pytest.raises(TenkuError, match="--freeze-encoder trains a VAE's decoder alone: it needs `tenku train vae` and --init"):
        train(vae_cfg(tmp_path / "b", steps=1, freeze_encoder=True))


def test_ship_swaps_in_a_decoder_fine_tune_and_refuses_another_encoder(tmp_path, trained_vae):
    from tenku.checkpoint import load_component
    from tenku.vae import VideoVAE

    root = Path(__file__).resolve().parents[1]
    dit = train(dit_cfg(tmp_path / "dit", trained_vae, steps=2)).parent
    dec = train(vae_cfg(tmp_path / "dec", steps=2, lr=1e-2, init=str(trained_vae), freeze_encoder=True)).parent
    other = train(vae_cfg(tmp_path / "other", steps=2, lr=1e-2, init=str(trained_vae))).parent

    def ship(vae: Path, dest: Path, *more: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(root / "runs" / "ship.py"), str(dit), "--vae-run", str(trained_vae),
                               "--vae-run", str(vae), "--vae", str(vae), "--dest", str(dest), *more],
                              capture_output=True, text=True)

    done = ship(dec, tmp_path / "ok", "--guidance", "2.5", "--steps", "7", "--sample", "end_latent_frames=2")
    assert done.returncode == 0, done.stderr
    sample = json.loads((tmp_path / "ok" / "manifest.json").read_text())["sample"]
    assert (sample["guidance"], sample["steps"], sample["end_latent_frames"]) == (2.5, 7, 2)
    bad = ship(dec, tmp_path / "bad", "--guidance", "0.5")
    assert bad.returncode != 0 and "--guidance must be 1 or more" in bad.stderr and not (tmp_path / "bad").exists()
    for item, message in (("end_frames=2", "a SampleConfig field other than guidance"), ("seam_frames=two", "'two' is not a int")):
        bad = ship(dec, tmp_path / "bad", "--sample", item)
        assert bad.returncode != 0 and message in bad.stderr and not (tmp_path / "bad").exists()
    shipped, _ = load_component(tmp_path / "ok", "vae", VideoVAE, VAEConfig)
    tuned, _ = load_component(dec / "model", "vae", VideoVAE, VAEConfig)
    for name, p in shipped.state_dict().items():
        torch.testing.assert_close(p, tuned.state_dict()[name], atol=2e-3, rtol=2e-3)  # stored as fp16
    assert len((tmp_path / "ok" / "logs" / "vae.jsonl").read_text().splitlines()) == 2 * 2  # two stages, 2 rows each
    refused = ship(other, tmp_path / "no")
    assert refused.returncode != 0 and "its encoder or latent statistics differ from those the DiT trained on" in refused.stderr
    assert not (tmp_path / "no").exists()


def test_ship_after_a_shipped_model_numbers_the_new_stage_after_its_logs(tmp_path, trained_vae):
    """--after: the earlier stages come from a shipped folder's logs (their runs gone), the new run is the next
    stage, and a run resumed from a checkpoint keeps only the rows logged after the resume for the repeated steps."""
    root = Path(__file__).resolve().parents[1]
    first = train(dit_cfg(tmp_path / "dit-1", trained_vae, steps=2)).parent
    second = train(dit_cfg(tmp_path / "dit-2", trained_vae, steps=3, init=str(first / "model"))).parent
    log = second / "log.jsonl"
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    stale = [{**r, "loss": 99.0} for r in rows[1:]]  # steps 2-3 as logged before a crash, then again after the resume
    log.write_text("".join(json.dumps(r) + "\n" for r in [rows[0], *stale, *rows[1:]]))

    def ship(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(root / "runs" / "ship.py"), *args], capture_output=True, text=True)

    done = ship(str(first), "--vae-run", str(trained_vae), "--dest", str(tmp_path / "v1"))
    assert done.returncode == 0, done.stderr
    done = ship(str(second), "--after", str(tmp_path / "v1"), "--dest", str(tmp_path / "v2"))
    assert done.returncode == 0, done.stderr
    dit_rows = [json.loads(line) for line in (tmp_path / "v2" / "logs" / "dit.jsonl").read_text().splitlines()]
    assert [(r["stage"], r["step"]) for r in dit_rows] == [(1, 1), (1, 2), (2, 1), (2, 2), (2, 3)]
    assert all(r["loss"] != 99.0 for r in dit_rows)
    vae_rows = (tmp_path / "v2" / "logs" / "vae.jsonl").read_text()
    assert vae_rows == (tmp_path / "v1" / "logs" / "vae.jsonl").read_text()
    card = (tmp_path / "v2" / "README.md").read_text()
    assert "| DiT 1 | 2 |" in card and "| DiT 2 | 3 |" in card and "| VAE | 2 |" in card
    refused = ship(str(second), "--dest", str(tmp_path / "v3"))
    assert refused.returncode != 0 and "give the VAE runs (--vae-run, repeatable) or --after" in refused.stderr
    refused = ship(str(second), "--after", str(tmp_path / "dit-1"), "--dest", str(tmp_path / "v3"))
    assert refused.returncode != 0 and "no logs/vae.jsonl" in refused.stderr and not (tmp_path / "v3").exists()


def test_ship_a_new_decoder_alone_after_a_shipped_model(tmp_path, trained_vae):
    """--after with no DiT run and --vae: the shipped DiT unchanged, the decoder fine-tune in, its run the next VAE
    stage; without --vae there is nothing to ship."""
    from tenku.checkpoint import load_component
    from tenku.dit import DiT
    from tenku.config import DiTConfig
    from tenku.vae import VideoVAE

    root = Path(__file__).resolve().parents[1]
    dit = train(dit_cfg(tmp_path / "dit", trained_vae, steps=2)).parent

    def ship(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(root / "runs" / "ship.py"), *args], capture_output=True, text=True)

    done = ship(str(dit), "--vae-run", str(trained_vae), "--dest", str(tmp_path / "v1"), "--guidance", "2.5")
    assert done.returncode == 0, done.stderr
    # the decoder fine-tunes the shipped (fp16) VAE, as the recipe does (`--init tenku/weights/tenku-world`)
    dec = train(vae_cfg(tmp_path / "dec", steps=2, lr=1e-2, init=str(tmp_path / "v1"), freeze_encoder=True)).parent
    done = ship("--after", str(tmp_path / "v1"), "--vae-run", str(dec), "--vae", str(dec), "--dest", str(tmp_path / "v2"))
    assert done.returncode == 0, done.stderr
    old, _ = load_component(tmp_path / "v1", "dit", DiT, DiTConfig)
    new, _ = load_component(tmp_path / "v2", "dit", DiT, DiTConfig)
    assert all(torch.equal(p, new.state_dict()[n]) for n, p in old.state_dict().items())
    shipped, _ = load_component(tmp_path / "v2", "vae", VideoVAE, VAEConfig)
    tuned, _ = load_component(dec / "model", "vae", VideoVAE, VAEConfig)
    for name, p in shipped.state_dict().items():
        torch.testing.assert_close(p, tuned.state_dict()[name], atol=2e-3, rtol=2e-3)
    assert json.loads((tmp_path / "v2" / "manifest.json").read_text())["sample"]["guidance"] == 2.5
    stages = [json.loads(line)["stage"] for line in (tmp_path / "v2" / "logs" / "vae.jsonl").read_text().splitlines()]
    assert sorted(set(stages)) == [1, 2]
    assert (tmp_path / "v2" / "logs" / "dit.jsonl").read_text() == (tmp_path / "v1" / "logs" / "dit.jsonl").read_text()
    refused = ship("--after", str(tmp_path / "v1"), "--dest", str(tmp_path / "v3"))
    assert refused.returncode != 0 and "--after a shipped model and --vae" in refused.stderr
    assert not (tmp_path / "v3").exists()


def test_the_recipe_script_is_made_of_valid_train_commands(monkeypatch):
    """runs/tenku-world.sh, the shipped model's recipe: every `tenku train` line parses into a TrainConfig (flags
    that exist, values of the right type) without training anything."""
    import shlex

    from typer.testing import CliRunner

    from tenku import train as train_module
    from tenku.cli import app

    script = (Path(__file__).resolve().parents[1] / "runs" / "tenku-world.sh").read_text()
    commands = [c.replace("\\\n", " ") for c in re.findall(r"^tenku train (?:[^\n]*\\\n)*[^\n]*$", script, flags=re.M)]
    assert len(commands) >= 4
    seen: list[TrainConfig] = []
    monkeypatch.setattr(train_module, "train", lambda cfg, console=None: seen.append(cfg))
    env = {"RUNS": "/r", "DEVICE": "cpu", "VAE_STEPS": "10", "OBJ_STEPS": "10", "DIT_STEPS": "10", "DIT_CLIPS": "30",
           "DEC_STEPS": "10", "DIT_COOL": "5"}
    for command in commands:
        args = shlex.split(re.sub(r'\$\{?(\w+)\}?', lambda m: env[m.group(1)], command))[1:]  # drop "tenku"
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
    assert [c.model for c in seen] == ["vae", "vae", "dit", "vae"]
    assert seen[1].focus_weight == 10 and seen[2].vae == "/r/vae-objects" and seen[3].freeze_encoder
