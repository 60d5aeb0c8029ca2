"""Causal 3D video VAE: 8x in space, 4x in time, the first frame encoded on its own.

Shapes (the project's glossary): `B` batch, `C` channels, `F` frames, `H`/`W` pixels; `f, h, w` latent grid,
`c` latent channels. Videos are float in [-1, 1], `(B, 3, F, H, W)` with `F = 4k + 1` and H, W divisible by 8;
latents are `(B, c, k + 1, H / 8, W / 8)`. An image is a one-frame video, so images and videos share one latent
space (as in MAGVIT-v2, Yu et al. 2023, and the Wan / Cosmos / Hunyuan video VAEs).

Causality: every conv pads time on the left only, by replicating the first frame, and every norm works within one
frame, so latent frame j depends on input frames 0..4j only, and output frame i on latent frames 0..ceil(i/4).
Temporal downsampling is a causal stride-2 conv (1 + 2m -> 1 + m frames), upsampling repeats each frame twice and
drops the duplicate of the first (1 + m -> 1 + 2m). That makes streaming exact: `encode_video`/`decode_video` run
the first frame, then chunks of 4n frames (n latent frames), with a `CausalCache` holding each conv's last input
frames, and give the same result as one full pass with memory bounded by the chunk.

Layout: space-to-depth by `patch_size` (2), a conv, then per level residual blocks and a stride-2 downsample;
the decoder mirrors it with nearest upsampling + conv and ends with depth-to-space.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from tenku.config import VAEConfig
from tenku.errors import TenkuError


class CausalCache:
    """The last input frames of every causal conv, carried from one chunk of a video to the next.

    Streaming makes one per video and passes it explicitly to every chunk. A conv with no entry has seen no frame
    yet: it pads by replicating the first frame, exactly as a full-sequence pass does. Keys are the conv modules.
    """

    def __init__(self) -> None:
        self.tails: dict[nn.Module, Tensor] = {}


class CausalConv3d(nn.Module):
    """A Conv3d that pads time on the left only (replicating the first frame) and pads space with zeros.

    With stride s in time, 1 + s*m frames give 1 + m: output frame 0 sees input frame 0 alone. With a cache, the
    frames of the previous chunk that the next window still needs are prepended instead of the padding.
    """

    def __init__(self, cin: int, cout: int, kernel: int = 3, time_stride: int = 1, space_stride: int = 1):
        super().__init__()
        self.conv = nn.Conv3d(
            cin, cout, kernel, stride=(time_stride, space_stride, space_stride), padding=(0, kernel // 2, kernel // 2)
        )

    def forward(self, x: Tensor, cache: CausalCache | None = None) -> Tensor:
        kt, st = self.conv.kernel_size[0], self.conv.stride[0]
        if cache is not None and self in cache.tails:
            x = torch.cat([cache.tails[self], x], dim=2)                           # (B, C, tail + F, H, W)
        elif kt > 1:
            x = torch.cat([x[:, :, :1].expand(-1, -1, kt - 1, -1, -1), x], dim=2)  # (B, C, kt - 1 + F, H, W)
        if cache is not None and kt > 1:
            n_out = (x.shape[2] - kt) // st + 1
            cache.tails[self] = x[:, :, st * n_out :]  # where the next output window starts
        return conv3d(x, self.conv)                                                # (B, C', F', H', W')


def conv3d(x: Tensor, conv: nn.Conv3d) -> Tensor:
    """`conv(x)`, calling oneDNN directly for fp32 on the CPU. PyTorch's backend heuristic sends a batch-1 input
    with few channels x frames x rows (N C D H <= 20480: every layer when decoding one 64x64 clip in chunks) to its
    native 3D kernel, which measured about 3x slower than oneDNN on this project's CPU; oneDNN is what the same
    conv uses for larger inputs, so results agree to float rounding."""
    if (x.device.type == "cpu" and x.dtype == conv.weight.dtype == torch.float32 and torch.backends.mkldnn.is_available()
            and torch.backends.mkldnn.enabled and conv.padding_mode == "zeros" and isinstance(conv.padding, tuple)):
        return torch.mkldnn_convolution(x.contiguous(), conv.weight, conv.bias, list(conv.padding), list(conv.stride),
                                        list(conv.dilation), conv.groups)
    return conv(x)


class ChannelRMSNorm(nn.Module):
    """RMS norm over channels at every pixel of every frame (as in Wan's VAE): nothing mixes across time, so it is
    causal and streams without a cache (a GroupNorm over time would leak future frames into the past)."""

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x: Tensor) -> Tensor:
        xf = x.float()
        xf = xf * torch.rsqrt(xf.square().mean(dim=1, keepdim=True) + self.eps)  # (B, C, F, H, W)
        return (xf * self.weight.float()[:, None, None, None]).to(x.dtype)       # (B, C, F, H, W)


class ResBlock(nn.Module):
    """norm, SiLU, causal conv, twice, plus the input. Channels stay the same."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm1 = ChannelRMSNorm(channels)
        self.conv1 = CausalConv3d(channels, channels)
        self.norm2 = ChannelRMSNorm(channels)
        self.conv2 = CausalConv3d(channels, channels)

    def forward(self, x: Tensor, cache: CausalCache | None = None) -> Tensor:
        h = self.conv1(F.silu(self.norm1(x)), cache)  # (B, C, F, H, W)
        h = self.conv2(F.silu(self.norm2(h)), cache)  # (B, C, F, H, W)
        return x + h                                  # (B, C, F, H, W)


class Downsample(nn.Module):
    """Halve H and W (and time, if `temporal`: 1 + 2m -> 1 + m frames) with one strided causal conv."""

    def __init__(self, cin: int, cout: int, temporal: bool):
        super().__init__()
        self.conv = CausalConv3d(cin, cout, time_stride=2 if temporal else 1, space_stride=2)

    def forward(self, x: Tensor, cache: CausalCache | None = None) -> Tensor:
        return self.conv(x, cache)  # (B, C', F', H/2, W/2)


class Upsample(nn.Module):
    """Double H and W (and time, if `temporal`: 1 + m -> 1 + 2m frames) by repeating, then a causal conv.

    In time every frame is repeated twice and, in a video's first chunk, the copy of frame 0 is dropped: frame 0
    stands for one input frame, every later latent frame for two.
    """

    def __init__(self, cin: int, cout: int, temporal: bool):
        super().__init__()
        self.temporal = temporal
        self.conv = CausalConv3d(cin, cout)

    def forward(self, x: Tensor, cache: CausalCache | None = None) -> Tensor:
        first_chunk = cache is None or self.conv not in cache.tails
        if self.temporal:
            x = x.repeat_interleave(2, dim=2)                         # (B, C, 2F, H, W)
            if first_chunk:
                x = x[:, :, 1:]                                       # (B, C, 2F - 1, H, W)
        x = F.interpolate(x, scale_factor=(1, 2, 2), mode="nearest")  # (B, C, F', 2H, 2W)
        return self.conv(x, cache)                                    # (B, C', F', 2H, 2W)


class Encoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        ch = [cfg.base_channels * m for m in cfg.channel_mult]
        self.patch = cfg.patch_size
        self.conv_in = CausalConv3d(cfg.in_channels * self.patch**2, ch[0])
        blocks: list[nn.Module] = []
        for i, c in enumerate(ch):
            blocks += [ResBlock(c) for _ in range(cfg.num_res_blocks)]
            if i + 1 < len(ch):
                blocks.append(Downsample(c, ch[i + 1], cfg.temporal_down[i]))
        self.blocks = nn.ModuleList(blocks)
        self.norm_out = ChannelRMSNorm(ch[-1])
        self.conv_out = CausalConv3d(ch[-1], 2 * cfg.latent_channels)

    def forward(self, x: Tensor, cache: CausalCache | None = None) -> Tensor:
        p = self.patch
        x = rearrange(x, "B C F (H p1) (W p2) -> B (C p1 p2) F H W", p1=p, p2=p)  # (B, 3 p p, F, H/p, W/p)
        x = self.conv_in(x, cache)                                                # (B, C, F, H/p, W/p)
        for block in self.blocks:
            x = block(x, cache)                                                   # (B, C', F', H', W')
        return self.conv_out(F.silu(self.norm_out(x)), cache)                     # (B, 2c, f, h, w)


class Decoder(nn.Module):
    def __init__(self, cfg: VAEConfig):
        super().__init__()
        ch = [cfg.base_channels * m for m in cfg.channel_mult]
        self.patch = cfg.patch_size
        self.conv_in = CausalConv3d(cfg.latent_channels, ch[-1])
        blocks: list[nn.Module] = []
        for i in reversed(range(len(ch))):
            blocks += [ResBlock(ch[i]) for _ in range(cfg.decoder_res_blocks)]
            if i > 0:
                blocks.append(Upsample(ch[i], ch[i - 1], cfg.temporal_down[i - 1]))
        self.blocks = nn.ModuleList(blocks)
        self.norm_out = ChannelRMSNorm(ch[0])
        self.conv_out = CausalConv3d(ch[0], cfg.in_channels * self.patch**2)

    def forward(self, z: Tensor, cache: CausalCache | None = None) -> Tensor:
        p = self.patch
        x = self.conv_in(z, cache)                                                   # (B, C, f, h, w)
        for block in self.blocks:
            x = block(x, cache)                                                      # (B, C', F', H', W')
        x = self.conv_out(F.silu(self.norm_out(x)), cache)                           # (B, 3 p p, F, H/p, W/p)
        return rearrange(x, "B (C p1 p2) F H W -> B C F (H p1) (W p2)", p1=p, p2=p)  # (B, 3, F, H, W)


class VideoVAE(nn.Module):
    """Causal video VAE: `(B, 3, 4k+1, H, W)` in [-1, 1] <-> latents `(B, c, k+1, H/8, W/8)`.

    `VideoVAE(cfg)` returns an initialised model. For large models build under `torch.device("meta")` (which
    allocates nothing and skips the init), then `to_empty(device=...)` and `init_weights()`.
    """

    def __init__(self, cfg: VAEConfig):
        super().__init__()
        self.cfg = cfg
        derived = cfg.derived()
        self.spatial_factor: int = derived["spatial_factor"]
        self.temporal_factor: int = derived["temporal_factor"]
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        if not any(p.is_meta for p in self.parameters()):
            self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """Every init rule of the VAE:

        - every conv weight ~ N(0, 1/fan_in) (variance-preserving for the residual stream), every bias 0;
        - the second conv of every residual block is zero, so each block starts as the identity (the zero-gamma
          trick, Goyal et al. 2017): a deep stack starts as a short, trainable path;
        - every norm weight 1.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                fan_in = m.in_channels * math.prod(m.kernel_size)
                nn.init.normal_(m.weight, std=fan_in**-0.5)
                nn.init.zeros_(m.bias)
            elif isinstance(m, ChannelRMSNorm):
                nn.init.ones_(m.weight)
        for m in self.modules():
            if isinstance(m, ResBlock):
                nn.init.zeros_(m.conv2.conv.weight)

    # --- shapes --------------------------------------------------------------------------------------------------

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        """`(c, f, h, w)` of the latent of a `frames x height x width` video (checks the sizes)."""
        self._check_size(frames, height, width)
        s, t = self.spatial_factor, self.temporal_factor
        return (self.cfg.latent_channels, (frames - 1) // t + 1, height // s, width // s)

    def _check_size(self, frames: int, height: int, width: int) -> None:
        t, s = self.temporal_factor, self.spatial_factor
        if frames < 1 or (frames - 1) % t:
            raise TenkuError(
                f"frames - 1 must be divisible by the VAE's temporal factor {t} (frames = {t}k + 1: 1, {t + 1}, "
                f"{2 * t + 1}, ...), got {frames}"
            )
        if height % s or width % s or height < s or width < s:
            raise TenkuError(
                f"height and width must be positive multiples of the VAE's spatial factor {s}, got {height}x{width}"
            )

    def _check_video(self, x: Tensor) -> None:
        if x.ndim != 5 or x.shape[1] != self.cfg.in_channels:
            raise TenkuError(
                f"video must be (B, {self.cfg.in_channels}, F, H, W) floats in [-1, 1], got shape {tuple(x.shape)}"
            )
        self._check_size(*x.shape[2:])

    def _check_latent(self, z: Tensor) -> None:
        c = self.cfg.latent_channels
        if z.ndim != 5 or z.shape[1] != c or min(z.shape[2:]) < 1:
            raise TenkuError(f"latent must be (B, {c}, f, h, w), got shape {tuple(z.shape)}")

    # --- encode / decode -----------------------------------------------------------------------------------------

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Video `(B, 3, F, H, W)` in [-1, 1] -> posterior `(mean, logvar)`, each `(B, c, f, h, w)`."""
        self._check_video(x)
        return self._encode(x, None)

    def _encode(self, x: Tensor, cache: CausalCache | None) -> tuple[Tensor, Tensor]:
        mean, logvar = self.encoder(x, cache).chunk(2, dim=1)  # 2 x (B, c, f, h, w)
        return mean, logvar.clamp(-30.0, 20.0)

    def decode(self, z: Tensor) -> Tensor:
        """Latent `(B, c, f, h, w)` -> video `(B, 3, 4(f-1)+1, 8h, 8w)`, roughly in [-1, 1] (not clamped)."""
        self._check_latent(z)
        return self.decoder(z, None)

    def sample(self, mean: Tensor, logvar: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """A draw from the posterior, `mean + exp(logvar / 2) * eps` (same shape as `mean`)."""
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + torch.exp(0.5 * logvar) * eps

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """Reconstruct through a posterior sample: `(B, 3, F, H, W)` -> `(recon, mean, logvar)`."""
        mean, logvar = self.encode(x)                                     # 2 x (B, c, f, h, w)
        recon = self.decoder(self.sample(mean, logvar, generator), None)  # (B, 3, F, H, W)
        return recon, mean, logvar

    def normalize(self, z: Tensor) -> Tensor:
        """VAE latent -> the unit-scale latent the DiT works on: `(z - latent_shift) * latent_scale`."""
        return (z - self.cfg.latent_shift) * self.cfg.latent_scale

    def denormalize(self, z: Tensor) -> Tensor:
        """Inverse of `normalize`."""
        return z / self.cfg.latent_scale + self.cfg.latent_shift

    # --- streaming -----------------------------------------------------------------------------------------------

    def encode_video(self, x: Tensor, chunk_latent_frames: int | None = None) -> tuple[Tensor, Tensor]:
        """`encode` in chunks with bounded memory; the result equals `encode(x)` (up to float rounding).

        The first frame goes alone, then chunks of `4 * chunk_latent_frames` frames (default
        `cfg.chunk_latent_frames`). Run it under `torch.no_grad()` for the memory bound to hold.
        """
        self._check_video(x)
        step = self.temporal_factor * self._chunk(chunk_latent_frames)
        cache = CausalCache()
        pieces = [self._encode(x[:, :, :1], cache)]
        for start in range(1, x.shape[2], step):
            pieces.append(self._encode(x[:, :, start : start + step], cache))
        return torch.cat([m for m, _ in pieces], dim=2), torch.cat([lv for _, lv in pieces], dim=2)

    def decode_video(self, z: Tensor, chunk_latent_frames: int | None = None) -> Tensor:
        """`decode` in chunks of latent frames with bounded memory; the result equals `decode(z)`."""
        self._check_latent(z)
        step = self._chunk(chunk_latent_frames)
        cache = CausalCache()
        pieces = [self.decoder(z[:, :, :1], cache)]
        for start in range(1, z.shape[2], step):
            pieces.append(self.decoder(z[:, :, start : start + step], cache))
        return torch.cat(pieces, dim=2)

    def _chunk(self, chunk_latent_frames: int | None) -> int:
        n = self.cfg.chunk_latent_frames if chunk_latent_frames is None else chunk_latent_frames
        if n < 1:
            raise TenkuError(f"chunk_latent_frames must be at least 1, got {n}")
        return n

    # --- training ------------------------------------------------------------------------------------------------

    def loss(
        self, x: Tensor, generator: torch.Generator | None = None, weight: Tensor | None = None, sync: bool = True
    ) -> tuple[Tensor, dict[str, float]]:
        """Training loss of a video batch `(B, 3, F, H, W)` in [-1, 1]: L1 + hard-pixel L1 + SSIM term + small KL.

        weight: optional per-pixel weights `(B, F, H, W)` of the L1 term (a weighted mean, so its scale stays that
        of a plain L1): the world's object pixels weigh more, since they are a few percent of the frame and a VAE
        trained on the plain mean learns to erase them.
        Returns the scalar loss and float metrics: loss, l1, hard (mean L1 of the worst pixels), ssim, kl, psnr
        (dB, on the clamped reconstruction); with a weight also l1_plain, the unweighted L1. With `sync=False` the
        metrics are detached 0-dim tensors (a GPU step then does not wait for them).
        """
        recon, mean, logvar = self(x, generator)
        recon, x, mean, logvar = recon.float(), x.float(), mean.float(), logvar.float()
        err = (recon - x).abs().mean(dim=1).flatten(1)                                    # (B, F H W)
        extra = {}
        if weight is None:
            l1 = err.mean()
        else:
            if weight.shape != (x.shape[0], *x.shape[2:]):
                raise TenkuError(f"VAE loss weight must be (B, F, H, W) = {(x.shape[0], *x.shape[2:])}, got {tuple(weight.shape)}")
            w = weight.float().flatten(1)                                                 # (B, F H W)
            l1 = (err * w).sum() / w.sum()
            extra["l1_plain"] = err.detach().mean()
        hard = hard_pixels(err, self.cfg.hard_fraction).mean()
        s = ssim(recon, x).mean()
        kl = 0.5 * (mean.square() + logvar.exp() - 1.0 - logvar).mean()
        loss = l1 + self.cfg.hard_weight * hard + self.cfg.ssim_weight * (1.0 - s) + self.cfg.kl_weight * kl
        with torch.no_grad():
            p = psnr(recon.clamp(-1.0, 1.0), x).mean()
        metrics = {"loss": loss, "l1": l1, "hard": hard, "ssim": s, "kl": kl, "psnr": p, **extra}
        metrics = {k: v.detach() for k, v in metrics.items()}
        if sync:
            metrics = {k: v.item() for k, v in metrics.items()}
        return loss, metrics


# --- image quality for losses and reports ------------------------------------------------------------------------


def hard_pixels(err: Tensor, fraction: float) -> Tensor:
    """Mean of the largest `fraction` of each row of per-pixel errors `(B, N)` -> `(B,)` (at least one pixel)."""
    if not 0.0 < fraction <= 1.0:
        raise TenkuError(f"VAEConfig.hard_fraction must be in (0, 1], got {fraction}")
    k = max(1, int(round(fraction * err.shape[1])))
    return err.topk(k, dim=1).values.mean(dim=1)


def psnr(a: Tensor, b: Tensor) -> Tensor:
    """Peak signal-to-noise ratio in dB per sample of two batches in [-1, 1] (peak-to-peak 2): `(B, ...)` -> `(B,)`.

    Identical inputs give 100 dB (the MSE is floored at 4e-10).
    """
    if a.shape != b.shape:
        raise TenkuError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    mse = (a.float() - b.float()).square().flatten(1).mean(dim=1)  # (B,)
    return 10.0 * torch.log10(4.0 / mse.clamp_min(4e-10))


def ssim(a: Tensor, b: Tensor, window: int = 11, sigma: float = 1.5) -> Tensor:
    """Mean SSIM (Wang et al. 2004) per sample of two batches in [-1, 1]: `(B, C, F, H, W)` or `(B, C, H, W)` -> `(B,)`.

    Gaussian window (11, sigma 1.5) on every channel of every frame, averaged over the valid region; the same
    numbers as skimage's `structural_similarity(gaussian_weights=True, data_range=2, channel_axis=...)`.
    Frames smaller than the window use the largest odd window that fits.
    """
    if a.shape != b.shape or a.ndim not in (4, 5):
        raise TenkuError(
            f"ssim needs two (B, C, F, H, W) or (B, C, H, W) batches, got {tuple(a.shape)}, {tuple(b.shape)}"
        )
    B = a.shape[0]
    if a.ndim == 5:
        a, b = (rearrange(v, "B C F H W -> (B F) C H W") for v in (a, b))  # (B F, C, H, W)
    a, b = a.float(), b.float()
    C = a.shape[1]
    size = min(window, a.shape[-1], a.shape[-2])
    size -= 1 - size % 2  # odd
    g = torch.exp(-((torch.arange(size, device=a.device, dtype=a.dtype) - size // 2) ** 2) / (2 * sigma**2))
    g = g / g.sum()
    gh = g.view(1, 1, 1, size).expand(C, 1, 1, size)
    gv = g.view(1, 1, size, 1).expand(C, 1, size, 1)

    def blur(v: Tensor) -> Tensor:  # separable Gaussian, valid region only
        return F.conv2d(F.conv2d(v, gh, groups=C), gv, groups=C)

    c1, c2 = (0.01 * 2.0) ** 2, (0.03 * 2.0) ** 2  # K1, K2 of the paper with data range 2
    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return s.flatten(1).mean(dim=1).view(B, -1).mean(dim=1)  # (B,)
