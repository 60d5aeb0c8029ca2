"""Rectified flow: time sampling, noising, the training loss and the sampler loop.

`x_t = (1 - t) x_0 + t eps`, `t = 0` data and `t = 1` noise, along a straight line whose velocity
`v = dx_t/dt = eps - x_0` the network learns (Liu et al. 2022; Lipman et al. 2022; SD3, Esser et al. 2024).
The network only maps `(x_t, t, text) -> v`; everything about the process lives here.

Shapes: latents `(B, c, f, h, w)`; times `(B, f)`, one per latent frame. Per-frame times let one model learn
denoising, image-to-video, extension, looping and storyboards at once: frames held clean (t = 0) are conditions,
and training with independent per-frame times (diffusion forcing, Chen et al. 2024) teaches frames at different
noise levels to talk to each other. Random draws take an optional `torch.Generator` on the data's device.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor, nn

from tenku.config import FlowConfig
from tenku.errors import TenkuError

Model = Callable[[Tensor, Tensor, Tensor, Tensor], Tensor]  # (x (B,c,f,h,w), t (B,f), text, text_mask) -> v


def noise_to(x0: Tensor, t: Tensor, eps: Tensor) -> Tensor:
    """`x_t = (1 - t) x0 + t eps` with `t` `(B, f)` per latent frame (or `(B,)`, or a float); shapes of `x0`."""
    if isinstance(t, Tensor):
        t = t.to(x0.dtype)
        t = t[:, None, :, None, None] if t.ndim == 2 else t.view(-1, 1, 1, 1, 1)  # (B, 1, f|1, 1, 1)
    return (1 - t) * x0 + t * eps


def shift_time(t: Tensor | float, shift: float) -> Tensor | float:
    """Time shift `s t / (1 + (s - 1) t)` (SD3 sec. 5.3.2): s > 1 spends more time at high noise; 0 and 1 stay."""
    return shift * t / (1 + (shift - 1) * t)


def unshift_time(t: float, shift: float) -> float:
    """Inverse of `shift_time` for one time."""
    return t / (shift - (shift - 1) * t)


class RectifiedFlow:
    """The rectified-flow process of `FlowConfig`: `sample_times`, `sample_conditions`, `loss` and `sample`."""

    def __init__(self, cfg: FlowConfig):
        self.cfg = cfg

    def shift_for(self, n_tokens: int) -> float:
        """Time shift `s` for a latent of `n_tokens = f * h * w` positions: `exp(mu)`, mu linear in log(n_tokens)
        from `base_shift` at `base_tokens` to `max_shift` at `max_tokens`, clamped outside that range."""
        cfg = self.cfg
        a = (math.log(n_tokens) - math.log(cfg.base_tokens)) / (math.log(cfg.max_tokens) - math.log(cfg.base_tokens))
        a = min(max(a, 0.0), 1.0)
        return math.exp(cfg.base_shift + a * (cfg.max_shift - cfg.base_shift))

    # --- training ------------------------------------------------------------------------------------------------

    def sample_times(
        self,
        B: int,
        f: int,
        n_tokens: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Tensor:
        """Training times `(B, f)` float32: shifted logit-normal; with probability `per_frame_prob` a sample gets
        independent per-frame times (diffusion forcing), otherwise one time for all its frames."""
        device = _device(generator, device)
        u = torch.randn(B, f, generator=generator, device=device) * self.cfg.logit_std + self.cfg.logit_mean
        per_frame = torch.rand(B, generator=generator, device=device) < self.cfg.per_frame_prob  # (B,)
        u = torch.where(per_frame[:, None], u, u[:, :1])  # (B, f)
        return shift_time(torch.sigmoid(u), self.shift_for(n_tokens))

    def sample_conditions(
        self, B: int, f: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """Which latent frames each sample holds clean as conditions: `(B, f)` bool, True = held.

        With probability `cond_prob` a sample holds frames in one of four equally likely patterns: the first k
        (image-to-video, extension), the last k (backward extension), k at both ends (connect, loop), or a random
        subset (storyboard). At least one frame always stays free; a one-frame latent never holds any.
        """
        device = _device(generator, device)
        idx = torch.arange(f, device=device)                                             # (f,)

        def rand_k(most: int) -> Tensor:
            """(B, 1) ints uniform in 1..most."""
            return 1 + (torch.rand(B, 1, generator=generator, device=device) * most).long()

        k = rand_k(max(f - 1, 1))
        first = idx < k                                                                  # (B, f)
        last = idx >= f - k                                                              # (B, f)
        k_end = rand_k(max((f - 1) // 2, 1))
        both = (idx < k_end) | (idx >= f - k_end) if f >= 3 else first                   # (B, f)
        subset = torch.rand(B, f, generator=generator, device=device) < 0.5              # (B, f)
        # a subset that took every frame frees one at random
        free = torch.randint(f, (B, 1), generator=generator, device=device) == idx       # (B, f)
        subset &= ~(free & subset.all(dim=1, keepdim=True))
        pattern = torch.randint(4, (B, 1), generator=generator, device=device)           # (B, 1)
        held = torch.stack([first, last, both, subset])                                  # (4, B, f)
        held = held.gather(0, pattern[None].expand(1, B, f))[0]                          # (B, f): each sample's pattern
        use = torch.rand(B, 1, generator=generator, device=device) < self.cfg.cond_prob  # (B, 1)
        return held & use & (f > 1)

    def loss(
        self,
        model: Model | nn.Module,
        x0: Tensor,
        text: Tensor,
        text_mask: Tensor,
        null_text: Tensor,
        null_mask: Tensor,
        generator: torch.Generator | None = None,
        weight: Tensor | None = None,
        weight_fade: bool = False,
        sync: bool = True,
    ) -> tuple[Tensor, dict[str, float]]:
        """Velocity MSE on a batch of normalized latents `x0 (B, c, f, h, w)`, each latent cell weighted by
        `weight (B, f, h, w)` where given (a weighted mean: the weights' scale does not matter).

        weight_fade: the weight's excess over 1 fades with the noise, `1 + (weight - 1) * (1 - t)`. A weight that
        depends on the clean clip (objects weigh more) biases the optimum toward the weighted clips wherever the
        noisy input cannot tell them apart: at high noise the model would learn to draw an object at every place
        one might be. Fading keeps the emphasis where x_t already shows where the objects are.

        Times from `sample_times`, held frames from `sample_conditions` (t = 0, excluded from the loss), and
        with probability `text_drop_prob` a sample's text is replaced by the empty prompt's states `null_text
        (1 or B, L0, D_text)` / `null_mask` (for classifier-free guidance). Returns the scalar loss and float
        metrics: loss, t_mean, held_frac (share of frames held), text_drop_frac. With `sync=False` the metrics
        are detached 0-dim tensors instead, so that a GPU step does not wait for them (the caller reads them later).
        """
        _check_latent(x0, "x0")
        B, _, f, h, w = x0.shape
        device = x0.device
        t = self.sample_times(B, f, f * h * w, generator, device)                           # (B, f)
        held = self.sample_conditions(B, f, generator, device)                              # (B, f)
        t = t.masked_fill(held, 0.0)                                                        # (B, f)
        eps = torch.randn(x0.shape, generator=generator, device=device, dtype=x0.dtype)     # (B, c, f, h, w)
        drop = torch.rand(B, generator=generator, device=device) < self.cfg.text_drop_prob  # (B,)
        text, text_mask = _choose_text(text, text_mask, null_text, null_mask, drop)         # (B, L, D_text), (B, L)

        v = model(noise_to(x0, t, eps), t, text, text_mask)                                 # (B, c, f, h, w)
        err = (v.float() - (eps - x0).float()).square().mean(dim=1)                         # (B, f, h, w)
        if weight is None:
            weight = torch.ones_like(err)
        elif weight.shape != err.shape:
            raise TenkuError(f"loss weight must be (B, f, h, w) = {tuple(err.shape)}, got {tuple(weight.shape)}")
        elif weight_fade:
            weight = 1.0 + (weight.float() - 1.0) * (1.0 - t)[:, :, None, None]                # (B, f, h, w)
        keep = (~held).float()[:, :, None, None] * weight.float()                           # (B, f, h, w)
        loss = (err * keep).sum() / keep.sum()
        metrics = {
            "loss": loss.detach(),
            "t_mean": (t * ~held).sum() / (~held).sum().clamp_min(1),
            "held_frac": held.float().mean(),
            "text_drop_frac": drop.float().mean(),
        }
        if sync:
            metrics = {k: v.item() for k, v in metrics.items()}
        return loss, metrics

    # --- sampling ------------------------------------------------------------------------------------------------

    @torch.no_grad()
    def sample(
        self,
        model: Model | nn.Module,
        noise: Tensor,
        text: Tensor,
        text_mask: Tensor,
        *,
        steps: int,
        guidance: float,
        null_text: Tensor | None = None,
        null_mask: Tensor | None = None,
        shift: float | None = None,
        known: Tensor | None = None,
        known_mask: Tensor | None = None,
        context_noise: float = 0.0,
        context_eps: Tensor | None = None,
        t_start: float = 1.0,
        callback: Callable[[int, int], None] | None = None,
    ) -> Tensor:
        """Integrate the velocity from `t_start` to 0 with Euler steps; deterministic given `noise`.

        - `noise (B, c, f, h, w)`: the start, pure noise at `t_start = 1`; for `t_start < 1` (edits and remix,
          SDEdit, Meng et al. 2021) the already noised input, e.g. `noise_to(x0, t_start, eps)`.
        - `steps` Euler steps over the grid `shift_time(linspace(unshift(t_start), 0))`; `shift` defaults to
          `shift_for(f * h * w)`.
        - `guidance`: classifier-free guidance `v = v_null + g (v_text - v_null)`, text and null in one batched
          forward; `guidance == 1` runs the text alone and needs no null.
        - `known (B, c, f, h, w)` with `known_mask (B, f)` bool: those latent frames are held at the known values
          with t = 0 at every step and come back exactly as given.
        - `context_noise` in [0, 1) with `context_eps` (shape of noise): the model sees held frames noised to
          this time instead of clean, `noise_to(known, context_noise, context_eps)` with t = context_noise (the
          same noise at every step), and they still come back exactly as given. A little noise on the context
          (diffusion forcing's noised history, Chen et al. 2024) keeps the model from copying the small errors of
          frames it made itself, which rolling generation would otherwise compound; per-frame training times
          make such inputs ones the model has seen.
        - `callback(step, total)` after each step, step counting from 1.

        Returns the sample `x0 (B, c, f, h, w)` in `noise`'s dtype.
        """
        # 1. check inputs
        _check_latent(noise, "noise")
        B, _, f, h, w = noise.shape
        if steps < 1:
            raise TenkuError(f"steps must be at least 1, got {steps}")
        if not 0.0 < t_start <= 1.0:
            raise TenkuError(f"t_start must be in (0, 1], got {t_start}")
        guided = guidance != 1.0
        if guided and (null_text is None or null_mask is None):
            raise TenkuError(f"guidance {guidance} != 1 needs null_text and null_mask (the empty prompt's states)")
        if (known is None) != (known_mask is None):
            raise TenkuError("known and known_mask go together: give both or neither")
        hold = None
        if known is not None and known_mask is not None:
            if known.shape != noise.shape:
                raise TenkuError(f"known must have the shape of noise {tuple(noise.shape)}, got {tuple(known.shape)}")
            if known_mask.dtype != torch.bool or tuple(known_mask.shape) != (B, f):
                raise TenkuError(
                    f"known_mask must be a bool (B, f) = ({B}, {f}) tensor, got {known_mask.dtype} "
                    f"{tuple(known_mask.shape)}"
                )
            hold = known_mask[:, None, :, None, None]                          # (B, 1, f, 1, 1)
        if not 0.0 <= context_noise < 1.0:
            raise TenkuError(f"context_noise must be in [0, 1), got {context_noise}")
        seen = known                                                           # what the model sees of held frames
        if context_noise > 0 and known is not None:
            if context_eps is None or context_eps.shape != noise.shape:
                got = None if context_eps is None else tuple(context_eps.shape)
                raise TenkuError(f"context_noise > 0 needs context_eps of the shape of noise {tuple(noise.shape)}, got {got}")
            seen = noise_to(known.float(), context_noise, context_eps.float())

        # 2. the conditioning batch: text and null side by side when guided
        if guided and null_text is not None and null_mask is not None:
            L = max(text.shape[1], null_text.shape[1])
            text, text_mask = _expand_text(text, text_mask, B, L)
            null_text, null_mask = _expand_text(null_text, null_mask, B, L)
            text, text_mask = torch.cat([text, null_text]), torch.cat([text_mask, null_mask])  # (2B, L, D_text)
        else:
            text, text_mask = _expand_text(text, text_mask, B, text.shape[1])  # (B, L, D_text)

        # 3. the time grid, t_start -> 0 (python floats: exact ends, t_start and 0)
        s = self.shift_for(f * h * w) if shift is None else shift
        u_start = unshift_time(t_start, s)
        grid = [t_start] + [float(shift_time(u_start * (1 - i / steps), s)) for i in range(1, steps + 1)]

        # 4. Euler steps on the velocity
        x = noise.float()                                                      # (B, c, f, h, w)
        for i in range(steps):
            t = torch.full((B, f), grid[i], device=noise.device)               # (B, f)
            if hold is not None:
                x = torch.where(hold, seen.float(), x)
                t = t.masked_fill(known_mask, context_noise)
            x_in = x.to(noise.dtype)
            if guided:
                v_text, v_null = model(torch.cat([x_in, x_in]), torch.cat([t, t]), text, text_mask).float().chunk(2)
                v = v_null + guidance * (v_text - v_null)                      # (B, c, f, h, w)
            else:
                v = model(x_in, t, text, text_mask).float()                    # (B, c, f, h, w)
            x = x + (grid[i + 1] - grid[i]) * v
            if callback is not None:
                callback(i + 1, steps)
        if hold is not None:
            x = torch.where(hold, known.float(), x)
        return x.to(noise.dtype)


# --- helpers -----------------------------------------------------------------------------------------------------


def _device(generator: torch.Generator | None, device: torch.device | str | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return generator.device if generator is not None else torch.device("cpu")


def _check_latent(x: Tensor, name: str) -> None:
    if x.ndim != 5:
        raise TenkuError(f"{name} must be a latent (B, c, f, h, w), got shape {tuple(x.shape)}")


def _expand_text(text: Tensor, mask: Tensor, B: int, L: int) -> tuple[Tensor, Tensor]:
    """Text states `(1 or B, L0, D)` and mask -> `(B, L, D)`, `(B, L)`, padding with masked-out zeros to L."""
    if text.shape[0] not in (1, B) or mask.shape != text.shape[:2]:
        raise TenkuError(
            f"text (1 or {B}, L, D) and mask (1 or {B}, L) expected, got {tuple(text.shape)}, {tuple(mask.shape)}"
        )
    pad = L - text.shape[1]
    if pad:
        text = torch.cat([text, text.new_zeros(text.shape[0], pad, text.shape[2])], dim=1)
        mask = torch.cat([mask, mask.new_zeros(mask.shape[0], pad)], dim=1)
    return text.expand(B, -1, -1), mask.expand(B, -1)


def _choose_text(
    text: Tensor, mask: Tensor, null_text: Tensor, null_mask: Tensor, drop: Tensor
) -> tuple[Tensor, Tensor]:
    """Per sample, the text (`drop` False) or the null text (`drop` True), padded to a common length."""
    B = text.shape[0]
    L = max(text.shape[1], null_text.shape[1])
    text, mask = _expand_text(text, mask, B, L)
    null_text, null_mask = _expand_text(null_text, null_mask, B, L)
    text = torch.where(drop[:, None, None], null_text.to(text.dtype), text)  # (B, L, D_text)
    mask = torch.where(drop[:, None], null_mask, mask)                       # (B, L)
    return text, mask
