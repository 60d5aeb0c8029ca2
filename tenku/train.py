"""Training: `tenku train vae` and `tenku train dit`, one `Trainer` for both.

A *task* says what is trained: the module whose weights are updated, EMA'd and saved (`model`), the module whose
forward returns the loss (`objective`, what DDP/FSDP wrap), the batch for a step, and how to export the final
checkpoint. The `Trainer` owns everything else: AdamW with linear warm-up, gradient clipping, the EMA, logs,
checkpoints and exact resume.

Exact resume: batch `s` is a pure function of (seed, s) (see `tenku.data.BucketSchedule`), and the state saved every
`ckpt_every` steps holds the model, the EMA, the optimizer, the step and the RNG states (torch, CUDA, the trainer's
noise generator, numpy, python). A killed run restarted with the same flags continues the same loss curve.
State and checkpoints are safetensors + JSON, written to a temporary folder and renamed: nothing pickled, nothing
half-written.

Parallelism is applied from outside (torchtitan style): `Dist` is the one place that knows the device, rank and
world size, and `Trainer(parallelize=fn)` lets a launcher wrap the objective (DDP, FSDP, compile) without touching
the loop. The data schedule already splits each global batch by rank.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import random
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn

from tenku.checkpoint import AtomicDir, load_component, load_state, resolve_checkpoint, save_pipeline, write_json
from tenku.config import (
    DIT_PRESETS,
    VAE_PRESETS,
    DiTConfig,
    FlowConfig,
    SampleConfig,
    TextConfig,
    TrainConfig,
    VAEConfig,
    from_preset,
    to_dict,
)
from tenku.data import LatentBatches, PixelBatches, build_latent_cache, cache_key, focus_ring, make_source, parse_bucket
from tenku.errors import CheckpointError, TenkuError

# fields that must match to resume a run (the rest, like steps or log_every, may change between restarts)
RESUME_FIELDS = ("model", "preset", "data", "clips", "vae", "text_encoder", "max_tokens", "batch_size", "seed", "buckets", "fps")


@dataclass
class Dist:
    """Where this process trains: the one place that knows the device, rank and world size."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def single(cls, device: str) -> "Dist":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise TenkuError(f"--device {device}: no CUDA device is available here; use --device cpu")
        return cls(torch.device(device))


def ema_decay_at(decay: float, step: int) -> float:
    """Ramped EMA decay: short runs (tests, the first steps) track the weights instead of the random init."""
    return min(decay, (1 + step) / (10 + step))


# --- tasks -----------------------------------------------------------------------------------------------------


class Task:
    """What is trained. `model`: updated, EMA'd and saved; `objective`: forward(batch, generator) -> (loss, metrics)."""

    model: nn.Module
    objective: nn.Module

    def batch(self, step: int) -> dict[str, Any]:
        """The batch of `step` on the CPU: a pure function of (seed, step), so resuming needs only the step."""
        raise NotImplementedError

    def prepare(self, batch: dict[str, Any], generator: torch.Generator) -> dict[str, Any]:
        """Per-step work on the device batch before the objective (random draws use `generator`)."""
        return batch

    def export(self, ema: nn.Module, folder: Path, summary: dict[str, Any]) -> None:
        raise NotImplementedError


class VAEObjective(nn.Module):
    def __init__(self, vae: nn.Module):
        super().__init__()
        self.vae = vae

    def forward(self, batch: dict[str, Any], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        return self.vae.loss(batch["video"], generator, batch.get("weight"))


class VAETask(Task):
    def __init__(self, cfg: TrainConfig, dist: Dist):
        from tenku.vae import VideoVAE

        self.cfg = cfg
        self.vae_cfg = from_preset(VAEConfig, VAE_PRESETS, cfg.resolved_preset())
        torch.manual_seed(cfg.seed)  # the init depends on the seed alone
        self.model = VideoVAE(self.vae_cfg)
        if cfg.init:
            self.vae_cfg = _init_from(self.model, cfg.init, "vae", VideoVAE, VAEConfig, self.vae_cfg)
        if cfg.freeze_encoder:
            # the decoder learns to draw better from the very same latents: a DiT trained on this encoder's latents
            # (and its cache) stays valid, and so do the latent shift and scale taken from --init
            self.model.encoder.requires_grad_(False)
        self.objective = VAEObjective(self.model)
        buckets = [parse_bucket(b) for b in cfg.buckets]
        source = make_source(cfg.data, cfg.seed, cfg.fps, cfg.clips)
        self.batches = PixelBatches(source, buckets, cfg.batch_size, cfg.seed, dist.rank, dist.world_size)
        self.device = dist.device

    def batch(self, step: int) -> dict[str, Any]:
        batch = self.batches(step)
        if self.cfg.focus_weight:
            # object pixels and a one-pixel ring around them (their edges are where a blurry decoder errs) weigh
            # 1 + focus_weight in the L1 term
            batch["weight"] = 1.0 + self.cfg.focus_weight * focus_ring(batch["focus"])  # (B, F, H, W)
        return batch

    @torch.no_grad()
    def latent_stats(self, vae: nn.Module, batches: int = 4) -> tuple[float, float]:
        """(shift, scale) that give posterior samples, what the DiT trains on, zero mean and unit std over a few
        training batches (the "scale factor" of Rombach et al. 2022, sec. 4.3.2, plus a shift as in SD3/Flux)."""
        generator = torch.Generator(self.device).manual_seed(self.cfg.seed)
        samples = []
        for step in range(batches):
            video = self.batches(step)["video"].to(self.device)
            samples.append(vae.sample(*vae.encode(video), generator).float().flatten().cpu())
        z = torch.cat(samples)
        return float(z.mean()), float(1.0 / z.std().clamp_min(1e-6))

    def export(self, ema: nn.Module, folder: Path, summary: dict[str, Any]) -> None:
        if self.cfg.freeze_encoder:
            vae_cfg = self.vae_cfg  # the encoder of --init, so its measured shift and scale
        else:
            shift, scale = self.latent_stats(ema)
            vae_cfg = replace(self.vae_cfg, latent_shift=shift, latent_scale=scale)
        exported = copy.deepcopy(ema)
        exported.cfg = vae_cfg
        card = _card("VAE", summary, f"tenku train dit --vae {folder} --preset dit-world --out runs/dit")
        save_pipeline(folder, {"vae": (exported, vae_cfg)}, card=card, info={"train": summary})


class DiTObjective(nn.Module):
    """Rectified-flow loss of the DiT on normalized latents (drawn from the cached posterior in `DiTTask.prepare`)."""

    def __init__(self, dit: nn.Module, flow: Any, null_text: Tensor, null_mask: Tensor, weight_fade: bool = False):
        super().__init__()
        self.dit, self.flow, self.weight_fade = dit, flow, weight_fade
        self.register_buffer("null_text", null_text, persistent=False)  # (1, L, D_text)
        self.register_buffer("null_mask", null_mask, persistent=False)  # (1, L)

    def forward(self, batch: dict[str, Any], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        return self.flow.loss(
            self.dit, batch["x0"], batch["text"], batch["text_mask"], self.null_text, self.null_mask,
            generator=generator, weight=batch.get("weight"), weight_fade=self.weight_fade,
        )


class DiTTask(Task):
    def __init__(self, cfg: TrainConfig, dist: Dist, say: Callable[[str], None] | None = None):
        if not cfg.vae:
            raise TenkuError("tenku train dit needs --vae PATH: the --out folder of a finished `tenku train vae` run")
        from tenku.dit import DiT
        from tenku.flow import RectifiedFlow
        from tenku.text import load_text_encoder
        from tenku.vae import VideoVAE

        self.cfg, self.device = cfg, dist.device
        vae_dir = resolve_checkpoint(cfg.vae, "vae")
        self.vae, self.vae_cfg = load_component(vae_dir, "vae", VideoVAE, VAEConfig, device=dist.device)
        self.vae.requires_grad_(False)
        self.text_cfg = TextConfig(encoder=cfg.text_encoder, max_tokens=cfg.max_tokens)
        text = load_text_encoder(self.text_cfg, device=dist.device)
        self.text_sha256 = text.sha256
        # the DiT's input and text widths follow from the VAE and the text encoder, whatever the preset says
        self.dit_cfg = from_preset(
            DiTConfig, DIT_PRESETS, cfg.resolved_preset(), in_channels=self.vae_cfg.latent_channels, text_dim=text.dim
        )
        torch.manual_seed(cfg.seed)  # the init depends on the seed alone, not on what loaded before
        self.model = DiT(self.dit_cfg)
        if cfg.init:
            self.dit_cfg = _init_from(self.model, cfg.init, "dit", DiT, DiTConfig, self.dit_cfg)
        self.flow_cfg = FlowConfig()
        null_text, null_mask = text.encode([""])  # (1, L, D_text), (1, L)
        self.objective = DiTObjective(self.model, RectifiedFlow(self.flow_cfg), null_text, null_mask, cfg.focus_fade)

        multiple = self.vae.spatial_factor * self.dit_cfg.patch_size[1]
        self.buckets = [parse_bucket(b, multiple=multiple) for b in cfg.buckets]
        source = make_source(cfg.data, cfg.seed, cfg.fps, cfg.clips)
        key = cache_key(source, self.buckets, _file_sha256(vae_dir / "vae" / "model.safetensors"), text.sha256, cfg.max_tokens)
        cache = Path(cfg.out) / "latents"
        if dist.is_main:  # a multi-process launcher adds a barrier here, after rank 0 has built the cache
            def progress(bucket: str, done: int, total: int) -> None:
                if say and (done == total or done % 64 < 8):
                    say(f"caching latents {bucket}: {done}/{total}")

            build_latent_cache(cache, source, self.buckets, self._encode, text.encode, key, progress=progress)
            captions = json.loads((cache / "texts.json").read_text())
            cut = sum(n > cfg.max_tokens for n in text.token_counts(captions))
            if cut and say:
                say(f"note: {cut} of {len(captions)} captions are longer than {cfg.max_tokens} tokens and were truncated")
        self.batches = LatentBatches(cache, self.buckets, cfg.batch_size, cfg.seed, dist.rank, dist.world_size)

    @torch.no_grad()
    def _encode(self, video: Tensor) -> tuple[Tensor, Tensor]:
        return self.vae.encode_video(video.to(self.device))

    def batch(self, step: int) -> dict[str, Any]:
        return self.batches(step)

    def prepare(self, batch: dict[str, Any], generator: torch.Generator) -> dict[str, Any]:
        """Draw this step's latent from the cached posterior and normalize it: x0 (B, c, f, h, w); and the loss
        weight of each latent cell, weight (B, f, h, w) = 1 + focus_weight * focus (faded with the noise in the loss
        when focus_fade)."""
        z = self.vae.sample(batch["mean"], batch["logvar"], generator)  # (B, c, f, h, w)
        weight = 1.0 + self.cfg.focus_weight * batch["focus"] if self.cfg.focus_weight else None  # (B, f, h, w)
        return {**batch, "x0": self.vae.normalize(z), "weight": weight}

    def export(self, ema: nn.Module, folder: Path, summary: dict[str, Any]) -> None:
        first = parse_bucket(self.cfg.buckets[0])
        # defaults that reproduce the first bucket exactly (F / fps seconds round to F frames, without a note)
        sample = SampleConfig(fps=self.cfg.fps, width=first.width, height=first.height, seconds=first.frames / self.cfg.fps)
        extra = {"text": {**to_dict(self.text_cfg), "sha256": self.text_sha256}, "flow": to_dict(self.flow_cfg)}
        info = {"sample": to_dict(sample), "train": summary}
        card = _card("text-to-video pipeline", summary, f'tenku generate "a red ball bounces on grass" --model {folder} -o out.mp4')
        save_pipeline(folder, {"vae": (self.vae, self.vae_cfg), "dit": (ema, self.dit_cfg)}, extra=extra, card=card, info=info)


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _card(what: str, summary: dict[str, Any], usage: str) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.items() if k != "config")
    cfg = json.dumps(summary.get("config", {}), indent=2)
    return (
        f"# tenku {what}\n\nTrained with `tenku train` (EMA weights).\n\n| | |\n|---|---|\n{rows}\n\n"
        f"Training config:\n\n```json\n{cfg}\n```\n\nUse it:\n\n```\n{usage}\n```\n"
    )


# --- the trainer -----------------------------------------------------------------------------------------------

Hook = Callable[["Trainer", dict[str, float]], None]


class Trainer:
    """AdamW + linear warm-up + grad clipping + EMA over a `Task`, with logs, atomic checkpoints and exact resume.

    `fit()` runs to `cfg.steps`, resuming from `out/state` when it exists. `train_step(batch)` is one optimizer
    step. `hooks` are called after every step with that step's metrics (`trainer.step` is already advanced).
    `parallelize(objective, dist) -> module` wraps the loss module from outside (DDP, FSDP, torch.compile).
    """

    def __init__(
        self,
        cfg: TrainConfig,
        task: Task,
        dist: Dist,
        hooks: list[Hook] | None = None,
        parallelize: Callable[[nn.Module, Dist], nn.Module] | None = None,
        console: Any = None,
    ):
        self.cfg, self.task, self.dist = cfg, task, dist
        self.hooks = list(hooks or [])
        self.console = console
        self.out = Path(cfg.out)
        self.model = task.model.to(dist.device)
        self.objective = task.objective.to(dist.device)
        if parallelize is not None:
            self.objective = parallelize(self.objective, dist)
        self.ema = copy.deepcopy(self.model).requires_grad_(False).eval()
        params = [p for p in self.model.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if p.ndim >= 2], "weight_decay": cfg.weight_decay},
            {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0},
        ]
        self.optimizer = torch.optim.AdamW(groups, lr=cfg.lr, betas=(0.9, 0.999))
        self.generator = torch.Generator(dist.device).manual_seed(cfg.seed * 1000 + dist.rank)
        self.step = 0
        self._sums: dict[str, float] = {}
        self._count = 0
        self._t0 = time.perf_counter()

    # schedule -----------------------------------------------------------------------------------------------

    def lr_at(self, step: int) -> float:
        """Linear warm-up over `warmup_steps` (step 0 gets lr / warmup_steps), then constant; over the last
        `cooldown_steps` before `steps` it falls linearly to lr / cooldown_steps at the last step."""
        lr = self.cfg.lr * min(1.0, (step + 1) / max(1, self.cfg.warmup_steps))
        if self.cfg.cooldown_steps > 0:
            lr *= min(1.0, max(self.cfg.steps - step, 1) / self.cfg.cooldown_steps)
        return lr

    def ema_decay_at(self, step: int) -> float:
        return ema_decay_at(self.cfg.ema_decay, step)

    # one step -----------------------------------------------------------------------------------------------

    def train_step(self, batch: dict[str, Any]) -> dict[str, float]:
        """One optimizer step on `batch`; returns float metrics (loss, grad_norm, lr and the task's own)."""
        device = self.dist.device
        batch = {k: v.to(device, non_blocking=True) if isinstance(v, Tensor) else v for k, v in batch.items()}
        batch = self.task.prepare(batch, self.generator)
        lr = self.lr_at(self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.objective.train()
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")
        with autocast:
            loss, metrics = self.objective(batch, self.generator)
        if not torch.isfinite(loss):
            raise TenkuError(f"the loss became {loss.item()} at step {self.step}; lower --lr or raise --warmup-steps")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        max_norm = self.cfg.grad_clip if self.cfg.grad_clip > 0 else math.inf
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), max_norm)
        self.optimizer.step()
        self._update_ema(self.ema_decay_at(self.step))
        self.step += 1
        return {**metrics, "loss": float(loss.detach()), "grad_norm": float(grad_norm), "lr": lr}

    @torch.no_grad()
    def _update_ema(self, decay: float) -> None:
        ema = [p for p in self.ema.parameters()]
        live = [p.detach() for p in self.model.parameters()]
        torch._foreach_lerp_(ema, live, 1.0 - decay)
        for b_ema, b in zip(self.ema.buffers(), self.model.buffers()):
            b_ema.copy_(b)

    # the loop -----------------------------------------------------------------------------------------------

    def fit(self) -> Path:
        """Train to `cfg.steps` (resuming if `out/state` exists); returns the exported EMA checkpoint folder."""
        self.out.mkdir(parents=True, exist_ok=True)
        if (self.out / "state").is_dir():
            self.load_state()
            self._say(f"resumed {self.out} at step {self.step}")
        else:
            self._trim_log()
        self._t0 = time.perf_counter()
        while self.step < self.cfg.steps:
            metrics = self.train_step(self.task.batch(self.step))
            self._accumulate(metrics)
            if self.step % self.cfg.log_every == 0 or self.step == self.cfg.steps:
                self._log()
            for hook in self.hooks:
                hook(self, metrics)
            if self.step % self.cfg.ckpt_every == 0 or self.step == self.cfg.steps:
                self.save_state()
                self.export()
        return self.out / "model"

    def export(self) -> Path:
        folder = self.out / "model"
        if self.dist.is_main:
            self.task.export(self.ema, folder, self.summary())
        return folder

    def summary(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "params": sum(p.numel() for p in self.model.parameters()),
            "config": to_dict(self.cfg),
        }

    # logs ---------------------------------------------------------------------------------------------------

    def _accumulate(self, metrics: dict[str, float]) -> None:
        for k, v in metrics.items():
            self._sums[k] = self._sums.get(k, 0.0) + float(v)
        self._count += 1

    def _log(self) -> None:
        if not self._count:
            return
        elapsed = max(time.perf_counter() - self._t0, 1e-9)
        row: dict[str, Any] = {"step": self.step}
        row.update({k: v / self._count for k, v in self._sums.items()})
        row["lr"] = self.lr_at(self.step - 1)
        row["steps_per_s"] = self._count / elapsed
        row["samples_per_s"] = self._count * self.cfg.batch_size / elapsed
        self._sums, self._count, self._t0 = {}, 0, time.perf_counter()
        if not self.dist.is_main:
            return
        with open(self.out / "log.jsonl", "a") as fh:
            fh.write(json.dumps(row) + "\n")
        extra = "  ".join(f"{k} {row[k]:.4g}" for k in row if k not in ("step", "loss", "lr", "grad_norm", "steps_per_s", "samples_per_s"))
        self._say(
            f"step {row['step']:>6}/{self.cfg.steps}  loss {row['loss']:.4f}  lr {row['lr']:.2e}  "
            f"grad {row['grad_norm']:.3f}  {row['steps_per_s']:.2f} steps/s  {row['samples_per_s']:.1f} samples/s  {extra}"
        )

    def _say(self, text: str) -> None:
        if self.console is not None and self.dist.is_main:
            self.console.print(text, highlight=False, soft_wrap=True)

    def _trim_log(self) -> None:
        """Drop log lines past the current step (written by a run that was killed after its last checkpoint)."""
        path = self.out / "log.jsonl"
        if not path.is_file() or not self.dist.is_main:
            return
        keep = [line for line in path.read_text().splitlines() if line and json.loads(line)["step"] <= self.step]
        tmp = path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(line + "\n" for line in keep))
        tmp.replace(path)

    # state --------------------------------------------------------------------------------------------------

    def save_state(self) -> Path:
        """Write out/state atomically: model, EMA, optimizer, RNGs and the step (= the data position)."""
        from safetensors.torch import save_file

        folder = self.out / "state"
        if not self.dist.is_main:
            return folder
        opt = self.optimizer.state_dict()
        opt_tensors, opt_meta = {}, {}
        for pid, state in opt["state"].items():
            for name, value in state.items():
                if isinstance(value, Tensor):
                    opt_tensors[f"{pid}.{name}"] = value.detach().cpu().contiguous()
                else:
                    opt_meta[f"{pid}.{name}"] = value
        rng = {"torch": torch.get_rng_state(), "generator": self.generator.get_state().cpu()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state(self.dist.device if self.dist.device.type == "cuda" else None)
        np_state = np.random.get_state()
        py_state = random.getstate()
        meta = {
            "step": self.step,
            "data_position": {"step": self.step},
            "config": to_dict(self.cfg),
            "optimizer": {"param_groups": opt["param_groups"], "scalars": opt_meta},
            "numpy_rng": [np_state[0], np_state[1].tolist(), *np_state[2:]],
            "python_rng": [py_state[0], list(py_state[1]), py_state[2]],
        }
        with AtomicDir(folder) as tmp:
            save_file(_cpu_state(self.model), str(tmp / "model.safetensors"))
            save_file(_cpu_state(self.ema), str(tmp / "ema.safetensors"))
            save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
            save_file({k: v.contiguous() for k, v in rng.items()}, str(tmp / "rng.safetensors"))
            write_json(tmp / "trainer.json", meta)
        return folder

    def load_state(self) -> None:
        """Restore everything `save_state` wrote; the run's settings must match (see RESUME_FIELDS)."""
        folder = self.out / "state"
        meta = check_resume(self.cfg)
        device = self.dist.device
        self.model.load_state_dict({k: v.to(device) for k, v in load_state(folder / "model.safetensors").items()})
        self.ema.load_state_dict({k: v.to(device) for k, v in load_state(folder / "ema.safetensors").items()})
        opt_tensors = load_state(folder / "optimizer.safetensors")
        state: dict[int, dict[str, Any]] = {}
        for key, value in list(opt_tensors.items()) + list(meta["optimizer"]["scalars"].items()):
            pid, name = key.split(".", 1)
            state.setdefault(int(pid), {})[name] = value
        self.optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
        rng = load_state(folder / "rng.safetensors")
        torch.set_rng_state(rng["torch"])
        self.generator.set_state(rng["generator"])
        if "cuda" in rng and device.type == "cuda":
            torch.cuda.set_rng_state(rng["cuda"], device)
        n = meta["numpy_rng"]
        np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), *n[2:]))
        p = meta["python_rng"]
        random.setstate((p[0], tuple(p[1]), p[2]))
        self.step = int(meta["step"])
        self._trim_log()


def _init_from(model: nn.Module, path: str, name: str, cls: type, cfg_cls: type, cfg: Any) -> Any:
    """Load `name`'s weights from the checkpoint at `path` into the freshly built `model` (fine-tuning, or training
    on from shipped weights with a new optimizer). The saved config must build the same network as this run's
    preset; only values that do not change the weights (e.g. the VAE's latent shift and scale) are taken from it.
    Returns the config to export with."""
    folder = resolve_checkpoint(path, name)
    loaded, saved = load_component(folder, name, cls, cfg_cls)
    stats = {"latent_shift", "latent_scale"}  # measured at export, not part of the network
    losses = {"ssim_weight", "kl_weight", "hard_weight", "hard_fraction"}  # this run's loss, not the network's
    mine, theirs = to_dict(cfg), to_dict(saved)
    differ = sorted(
        k for k in mine.keys() | theirs.keys() if k not in stats | losses and mine.get(k) != theirs.get(k)
    )
    if differ:
        raise TenkuError(
            f"--init {path}: its {name} ({folder / name / 'config.json'}) is not the network of this run's preset "
            f"(it differs in {', '.join(differ)}); pass the --preset it was trained with"
        )
    model.load_state_dict(loaded.state_dict())
    return replace(saved, **{k: mine[k] for k in losses if k in mine})


def check_resume(cfg: TrainConfig) -> dict[str, Any]:
    """The saved trainer.json of `cfg.out/state` ({} if none), after checking the run's settings match cfg's."""
    folder = Path(cfg.out) / "state"
    if not folder.is_dir():
        return {}
    try:
        meta = json.loads((folder / "trainer.json").read_text())
        saved = meta["config"]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise CheckpointError(f"{folder / 'trainer.json'} is unreadable ({e}); delete {folder} to start over") from None
    for name in RESUME_FIELDS:
        mine = to_dict(cfg)[name]
        theirs = tuple(saved.get(name)) if isinstance(saved.get(name), list) else saved.get(name)
        if name == "preset":
            mine, theirs = cfg.resolved_preset(), saved.get("preset") or f"{saved.get('model')}-debug"
        if mine != theirs:
            raise TenkuError(
                f"{cfg.out} holds a run with {name}={theirs!r}, this one has {name}={mine!r}; "
                "pass the same settings to resume, or a new --out to start another run"
            )
    return meta


def _cpu_state(module: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


# --- entry point -----------------------------------------------------------------------------------------------


def train(cfg: TrainConfig, console: Any = None, hooks: list[Hook] | None = None) -> Path:
    """Run `cfg` on one process (resuming if its --out holds a state) and return the exported checkpoint."""
    if cfg.model not in ("vae", "dit"):
        raise TenkuError(f"TrainConfig.model must be 'vae' or 'dit', got {cfg.model!r}")
    presets = VAE_PRESETS if cfg.model == "vae" else DIT_PRESETS
    if cfg.resolved_preset() not in presets:
        raise TenkuError(f"unknown {cfg.model} preset {cfg.resolved_preset()!r}; choose one of {sorted(presets)}")
    for name in ("steps", "batch_size", "log_every", "ckpt_every", "fps", "clips"):
        if getattr(cfg, name) < 1:
            raise TenkuError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(cfg, name)}")
    if not 0 <= cfg.cooldown_steps <= cfg.steps:
        raise TenkuError(f"--cooldown-steps must be between 0 and --steps ({cfg.steps}), got {cfg.cooldown_steps}")
    if not cfg.focus_weight >= 0:
        raise TenkuError(f"--focus-weight must be 0 or more, got {cfg.focus_weight}")
    if cfg.focus_fade and not cfg.focus_weight:
        raise TenkuError("--focus-fade fades the --focus-weight with the noise: give a --focus-weight above 0 too")
    if cfg.freeze_encoder and not (cfg.model == "vae" and cfg.init):
        raise TenkuError("--freeze-encoder trains a VAE's decoder alone: it needs `tenku train vae` and --init "
                         "with the VAE whose encoder to keep")
    if not cfg.buckets:
        raise TenkuError("--buckets needs at least one FxHxW bucket, e.g. 17x64x64")
    if cfg.precision not in ("fp32", "bf16"):
        raise TenkuError(f"--precision must be fp32 or bf16, got {cfg.precision!r}")
    check_resume(cfg)  # before the DiT task rebuilds the latent cache for other settings
    dist = Dist.single(cfg.device)
    say = (lambda text: console.print(text, highlight=False, soft_wrap=True)) if console is not None else None
    task = VAETask(cfg, dist) if cfg.model == "vae" else DiTTask(cfg, dist, say=say)
    return Trainer(cfg, task, dist, hooks=hooks, console=console).fit()
