import json
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from tenku.checkpoint import load_component, load_manifest, save_component, save_pipeline
from tenku.config import to_dict
from tenku.errors import CheckpointError, TenkuError


@dataclass(kw_only=True)
class TinyConfig:
    dim: int = 8
    depth: int = 2


class Tiny(nn.Module):
    def __init__(self, cfg: TinyConfig):
        super().__init__()
        self.blocks = nn.ModuleList(nn.Linear(cfg.dim, cfg.dim) for _ in range(cfg.depth))
        self.register_buffer("scale", torch.ones(cfg.dim))


def tiny(dim=8, depth=2, seed=0):
    torch.manual_seed(seed)
    cfg = TinyConfig(dim=dim, depth=depth)
    return Tiny(cfg), cfg


def test_component_round_trip(tmp_path):
    model, cfg = tiny()
    save_component(tmp_path, "dit", model, cfg)
    assert sorted(p.name for p in (tmp_path / "dit").iterdir()) == ["config.json", "model.safetensors"]
    assert json.loads((tmp_path / "dit" / "config.json").read_text()) == {"dim": 8, "depth": 2}
    loaded, lcfg = load_component(tmp_path, "dit", Tiny, TinyConfig)
    assert lcfg == cfg and not loaded.training
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert not list(tmp_path.glob(".*")), "no temporary folders left behind"


def test_fp16_storage_loads_into_fp32(tmp_path):
    model, cfg = tiny()
    save_component(tmp_path, "dit", model, cfg, dtype=torch.float16)
    loaded, _ = load_component(tmp_path, "dit", Tiny, TinyConfig)
    w = loaded.blocks[0].weight
    assert w.dtype == torch.float32
    torch.testing.assert_close(w, model.blocks[0].weight.half().float())


def test_int8_storage_halves_big_matrices_and_loads_back_close(tmp_path):
    from safetensors.torch import load_file

    from tenku.checkpoint import INT8_SCALE

    model, cfg = tiny(dim=96)  # 96 x 96 = 9,216 weights a matrix: stored int8; biases and buffers fp16
    with torch.no_grad():
        model.blocks[0].weight[3] *= 50  # one loud row must not cost the other rows their precision
    save_component(tmp_path, "dit", model, cfg, dtype=torch.int8)
    raw = load_file(str(tmp_path / "dit" / "model.safetensors"))
    assert raw["blocks.0.weight"].dtype == torch.int8 and raw["blocks.0.weight" + INT8_SCALE].shape == (96,)
    assert raw["blocks.0.bias"].dtype == torch.float16 and raw["scale"].dtype == torch.float16
    loaded, _ = load_component(tmp_path, "dit", Tiny, TinyConfig)
    assert set(loaded.state_dict()) == set(model.state_dict())
    for k, w in model.state_dict().items():
        got = loaded.state_dict()[k]
        assert got.dtype == torch.float32
        if w.ndim == 2:  # each element within half a step of its row's scale
            step = w.abs().amax(dim=1, keepdim=True) / 127
            assert ((got - w).abs() <= 0.51 * step + 1e-7).all(), k
            assert (got - w).abs()[:3].max() < 0.01 * w.abs()[:3].max()  # quiet rows stay fine
        else:
            torch.testing.assert_close(got, w.half().float())


def test_pipeline_stores_each_component_as_asked(tmp_path):
    vae, vcfg = tiny(dim=96)
    dit, dcfg = tiny(dim=96, seed=1)
    save_pipeline(tmp_path / "p", {"vae": (vae, vcfg), "dit": (dit, dcfg)}, dtype={"dit": torch.int8, "vae": torch.float16})
    manifest = load_manifest(tmp_path / "p")
    assert manifest["components"]["dit"]["storage_dtype"] == "int8+float16"
    assert manifest["components"]["vae"]["storage_dtype"] == "float16"
    assert (tmp_path / "p" / "dit" / "model.safetensors").stat().st_size < 0.6 * (tmp_path / "p" / "vae" / "model.safetensors").stat().st_size


def test_pipeline_folder_and_overwrite(tmp_path):
    vae, vcfg = tiny(dim=4)
    dit, dcfg = tiny(dim=8)
    root = tmp_path / "ckpt"
    extra = {"text": {"encoder": "minilm", "max_tokens": 64}}
    save_pipeline(root, {"vae": (vae, vcfg), "dit": (dit, dcfg)}, extra=extra)
    manifest = load_manifest(root)
    assert manifest["format"] == "tenku" and manifest["version"] == 1
    assert set(manifest["components"]) == {"vae", "dit", "text"}
    assert manifest["components"]["text"] == extra["text"]
    assert manifest["components"]["dit"]["params"] == sum(p.numel() for p in dit.parameters())
    assert "tenku generate" in (root / "README.md").read_text()
    # writing again replaces the folder whole, leaving nothing else behind
    dit2, dcfg2 = tiny(dim=8, seed=1)
    save_pipeline(root, {"vae": (vae, vcfg), "dit": (dit2, dcfg2)}, extra=extra)
    loaded, _ = load_component(root, "dit", Tiny, TinyConfig)
    assert torch.equal(loaded.blocks[0].weight, dit2.blocks[0].weight)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_failed_save_leaves_old_checkpoint(tmp_path):
    model, cfg = tiny()
    save_pipeline(tmp_path / "ckpt", {"dit": (model, cfg)})

    class Broken(nn.Module):
        def state_dict(self, *a, **k):
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        save_pipeline(tmp_path / "ckpt", {"dit": (Broken(), cfg)})
    load_component(tmp_path / "ckpt", "dit", Tiny, TinyConfig)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_extra_files_land_inside_the_folder_or_nothing_is_written(tmp_path):
    model, cfg = tiny()
    save_pipeline(tmp_path / "ckpt", {"dit": (model, cfg)}, files={"logs/dit.jsonl": '{"step": 1}\n'})
    assert (tmp_path / "ckpt" / "logs" / "dit.jsonl").read_text() == '{"step": 1}\n'
    with pytest.raises(TenkuError, match="would land outside the pipeline folder"):
        save_pipeline(tmp_path / "other", {"dit": (model, cfg)}, files={"../escape.txt": "x"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def one_line(e: pytest.ExceptionInfo) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist; train one with `tenku train vae`") as e:
        load_manifest(tmp_path / "nope")
    one_line(e)
    model, cfg = tiny()
    save_pipeline(tmp_path / "ckpt", {"dit": (model, cfg)})
    with pytest.raises(CheckpointError, match="has no 'vae' component"):
        load_component(tmp_path / "ckpt", "vae", Tiny, TinyConfig)
    (tmp_path / "ckpt" / "dit" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model.safetensors is missing; the checkpoint is incomplete") as e:
        load_component(tmp_path / "ckpt", "dit", Tiny, TinyConfig)
    one_line(e)
    (tmp_path / "ckpt" / "manifest.json").unlink()
    with pytest.raises(CheckpointError, match="manifest.json is missing"):
        load_manifest(tmp_path / "ckpt")


def test_corrupt_safetensors(tmp_path):
    model, cfg = tiny()
    save_component(tmp_path, "dit", model, cfg)
    path = tmp_path / "dit" / "model.safetensors"
    path.write_bytes(path.read_bytes()[:50])  # truncated
    with pytest.raises(CheckpointError, match="not a readable safetensors file .*truncated or corrupt") as e:
        load_component(tmp_path, "dit", Tiny, TinyConfig)
    one_line(e)


def test_unknown_config_keys(tmp_path):
    model, cfg = tiny()
    save_component(tmp_path, "dit", model, cfg)
    (tmp_path / "dit" / "config.json").write_text(json.dumps({**to_dict(cfg), "widht": 3}))
    with pytest.raises(CheckpointError, match=r"unknown TinyConfig keys \['widht'\].*different tenku version") as e:
        load_component(tmp_path, "dit", Tiny, TinyConfig)
    one_line(e)


def test_shape_mismatch_names_the_tensor(tmp_path):
    small, _ = tiny(dim=4)
    _, big_cfg = tiny(dim=8)
    save_component(tmp_path, "dit", small, big_cfg)  # weights from one config, config.json from another
    with pytest.raises(
        CheckpointError, match=r"incompatible config: dit\.scale expected \(8,\), got \(4,\); .*config\.json does not match"
    ) as e:
        load_component(tmp_path, "dit", Tiny, TinyConfig)
    one_line(e)


def test_missing_tensor(tmp_path):
    shallow, _ = tiny(depth=1)
    _, deep_cfg = tiny(depth=2)
    save_component(tmp_path, "dit", shallow, deep_cfg)
    with pytest.raises(CheckpointError, match=r"incompatible model: missing dit\.blocks\.1\.weight \(and 1 more\)"):
        load_component(tmp_path, "dit", Tiny, TinyConfig)


def test_bad_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(CheckpointError, match="not a tenku manifest"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "tenku", "version": 9, "components": {}}')
    with pytest.raises(CheckpointError, match="version 9.*upgrade tenku"):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_manifest(tmp_path)
