"""Diffusion transformer over spacetime latent patches: `(x, t, text) -> v`.

Shapes (the project's glossary): `B` batch; `f, h, w` latent grid, `c` latent channels; `pf, ph, pw` patch sizes,
`f', h', w'` the token grid (`f / pf`, ...), `N = f' h' w'` tokens; `D` model width, `L` text tokens, `D_text`
the text encoder's width; flow time `t` in [0, 1], one per latent frame, `t = 0` data and `t = 1` noise.

The network knows nothing of the diffusion process (DiT, Peebles & Xie 2023): `flow.py` decides what `t` means,
what the output is trained to be and how to sample. Each block is self-attention over all spacetime tokens with 3D
rotary positions and QK-norm, cross-attention to the text states (padding masked out), then an MLP; the flow time
of each latent frame modulates that frame's tokens through adaLN-zero (shift, scale, gate per block), so frames
can sit at different noise levels (diffusion forcing, Chen et al. 2024) and clean frames can act as conditions.
Positions are computed per call from the token grid, so any duration, resolution and aspect ratio runs.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn

from tenku.config import DiTConfig
from tenku.errors import TenkuError

# --- patches -----------------------------------------------------------------------------------------------------


def patchify(x: Tensor, patch_size: tuple[int, int, int]) -> Tensor:
    """Latent `(B, c, f, h, w)` -> tokens `(B, N, c*pf*ph*pw)`, in (f', h', w') order.

    einops: `b c (f pf) (h ph) (w pw) -> b (f h w) (c pf ph pw)`.
    """
    pf, ph, pw = patch_size
    f, h, w = x.shape[2:]
    if f % pf or h % ph or w % pw:
        raise TenkuError(
            f"latent grid (f, h, w) = {(f, h, w)} must be divisible by the DiT's patch size (pf, ph, pw) = "
            f"{(pf, ph, pw)}"
        )
    return rearrange(x, "b c (f pf) (h ph) (w pw) -> b (f h w) (c pf ph pw)", pf=pf, ph=ph, pw=pw)


def unpatchify(tokens: Tensor, patch_size: tuple[int, int, int], grid: tuple[int, int, int]) -> Tensor:
    """Tokens `(B, N, c*pf*ph*pw)` on the token grid `(f', h', w')` -> latent `(B, c, f, h, w)`.

    einops: `b (f h w) (c pf ph pw) -> b c (f pf) (h ph) (w pw)`; the inverse of `patchify`.
    """
    pf, ph, pw = patch_size
    f, h, w = grid
    if tokens.shape[1] != f * h * w or tokens.shape[2] % (pf * ph * pw):
        raise TenkuError(
            f"tokens {tuple(tokens.shape)} do not fit grid {grid} with patch size {patch_size}: need N = {f * h * w} "
            f"and a value count divisible by {pf * ph * pw}"
        )
    return rearrange(tokens, "b (f h w) (c pf ph pw) -> b c (f pf) (h ph) (w pw)", f=f, h=h, w=w, pf=pf, ph=ph, pw=pw)


# --- positions and time ------------------------------------------------------------------------------------------


def rope_angles(grid: tuple[int, int, int], dims: tuple[int, int, int], theta: float, device: torch.device) -> Tensor:
    """Rotary angles of the tokens of a `(f', h', w')` grid: `(N, head_dim / 2)`, float32.

    Each axis gets `dims[i]` of the head dim (RoFormer frequencies `theta^(-2j/d)` on the integer position along
    that axis); the three are concatenated, so a query and a key rotate by their offset in time, height and width.
    """
    parts = []
    for n, d in zip(grid, dims):
        freqs = theta ** (-torch.arange(0, d, 2, device=device, dtype=torch.float32) / d)   # (d/2,)
        parts.append(torch.arange(n, device=device, dtype=torch.float32)[:, None] * freqs)  # (n, d/2)
    f, h, w = grid
    return torch.cat(
        [
            parts[0][:, None, None].expand(f, h, w, -1),
            parts[1][None, :, None].expand(f, h, w, -1),
            parts[2][None, None, :].expand(f, h, w, -1),
        ],
        dim=-1,
    ).flatten(0, 2)                                                                         # (N, head_dim / 2)


def apply_rope(x: Tensor, angles: Tensor) -> Tensor:
    """Rotate consecutive pairs of the head dim of `x (B, heads, N, head_dim)` by `angles (N, head_dim / 2)`."""
    xf = x.float().unflatten(-1, (-1, 2))                                  # (B, heads, N, head_dim/2, 2)
    cos, sin = angles.cos(), angles.sin()                                  # (N, head_dim/2)
    x1, x2 = xf[..., 0], xf[..., 1]
    out = torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)  # (B, heads, N, head_dim/2, 2)
    return out.flatten(-2).to(x.dtype)                                     # (B, heads, N, head_dim)


def time_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """Sinusoidal embedding of flow times `t (...)` in [0, 1] -> `(..., dim)` float32 (DiT's, on t * 1000)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = 1000.0 * t.float()[..., None] * freqs                  # (..., dim/2)
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)  # (..., dim)


def modulate(x: Tensor, shift: Tensor, scale: Tensor) -> Tensor:
    """`x * (1 + scale) + shift` per frame: `x (B, N, D)` with N = f' * S tokens in frame order, `shift`, `scale`
    `(B, f', 1, D)` broadcast over each frame's S tokens."""
    return (x.unflatten(1, (shift.shape[1], -1)) * (1 + scale) + shift).flatten(1, 2)


def gated(x: Tensor, gate: Tensor) -> Tensor:
    """`x * gate` per frame, shapes as in `modulate`."""
    return (x.unflatten(1, (gate.shape[1], -1)) * gate).flatten(1, 2)


# --- layers ------------------------------------------------------------------------------------------------------


class Attention(nn.Module):
    """Multi-head attention with QK-norm (RMSNorm over each head's queries and keys) and SDPA.

    Self-attention (`context is None`) rotates queries and keys by the 3D rotary angles; cross-attention to text
    uses no positions and a key padding mask.
    """

    def __init__(self, dim: int, heads: int, qk_norm: bool):
        super().__init__()
        self.heads = heads
        head_dim = dim // heads
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(dim, 2 * dim)
        self.q_norm = nn.RMSNorm(head_dim, eps=1e-6) if qk_norm else nn.Identity()
        self.k_norm = nn.RMSNorm(head_dim, eps=1e-6) if qk_norm else nn.Identity()
        self.proj = nn.Linear(dim, dim)

    def forward(
        self, x: Tensor, context: Tensor | None = None, angles: Tensor | None = None, mask: Tensor | None = None
    ) -> Tensor:
        kv_in = x if context is None else context
        q = rearrange(self.q(x), "B N (H d) -> B H N d", H=self.heads)  # (B, heads, N, head_dim)
        kv = rearrange(self.kv(kv_in), "B M (two H d) -> two B H M d", two=2, H=self.heads)  # (2, B, heads, M, head_dim)
        k, v = kv.unbind(0)                                                    # 2 x (B, heads, M, head_dim)
        q, k = self.q_norm(q), self.k_norm(k)
        if angles is not None:
            q, k = apply_rope(q, angles), apply_rope(k, angles)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)     # (B, heads, N, head_dim)
        return self.proj(rearrange(x, "B H N d -> B N (H d)"))          # (B, N, D)


class Block(nn.Module):
    """adaLN-zero self-attention, cross-attention to text, adaLN-zero MLP."""

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        D, hidden = cfg.dim, cfg.derived()["mlp_hidden"]
        self.norm1 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.attn = Attention(D, cfg.heads, cfg.qk_norm)
        self.norm2 = nn.LayerNorm(D, eps=1e-6)  # cross-attention is not modulated (PixArt-alpha, Chen et al. 2023)
        self.cross = Attention(D, cfg.heads, cfg.qk_norm)
        self.norm3 = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(D, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, D))
        self.modulation = nn.Linear(D, 6 * D)  # shift, scale, gate for attention and MLP, from the frame's time

    def forward(self, x: Tensor, c: Tensor, text: Tensor, mask: Tensor, angles: Tensor) -> Tensor:
        mods = self.modulation(c)[:, :, None].chunk(6, dim=-1)                   # 6 x (B, f', 1, D)
        shift1, scale1, gate1, shift2, scale2, gate2 = mods
        x = x + gated(self.attn(modulate(self.norm1(x), shift1, scale1), angles=angles), gate1)  # (B, N, D)
        x = x + self.cross(self.norm2(x), context=text, mask=mask)               # (B, N, D)
        x = x + gated(self.mlp(modulate(self.norm3(x), shift2, scale2)), gate2)  # (B, N, D)
        return x


# --- the model ---------------------------------------------------------------------------------------------------


class DiT(nn.Module):
    """Velocity network `(x, t, text, text_mask) -> v` over spacetime patches of a latent video.

    `DiT(cfg)` returns an initialised model. For large models build under `torch.device("meta")` (which allocates
    nothing and skips the init), then `to_empty(device=...)` and `init_weights()`.
    """

    def __init__(self, cfg: DiTConfig):
        super().__init__()
        self.cfg = cfg
        derived = cfg.derived()
        self.rope_dims: tuple[int, int, int] = derived["rope_dims"]
        D, pf = cfg.dim, cfg.patch_size[0]
        self.x_embed = nn.Linear(derived["patch_values"], D)
        # the pf latent frames of a token frame keep their own times: their embeddings are concatenated
        self.t_embed = nn.Sequential(nn.Linear(pf * cfg.time_freq_dim, D), nn.SiLU(), nn.Linear(D, D))
        self.text_embed = nn.Sequential(
            nn.LayerNorm(cfg.text_dim, eps=1e-6),  # text encoders differ in scale; this makes them alike
            nn.Linear(cfg.text_dim, D),
            nn.GELU(approximate="tanh"),
            nn.Linear(D, D),
        )
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm_out = nn.LayerNorm(D, elementwise_affine=False, eps=1e-6)
        self.modulation_out = nn.Linear(D, 2 * D)  # shift, scale of the final layer
        self.out = nn.Linear(D, derived["patch_values"])
        if not any(p.is_meta for p in self.parameters()):
            self.init_weights()

    @torch.no_grad()
    def init_weights(self) -> None:
        """Every init rule of the DiT (those of DiT, Peebles & Xie 2023, sec. 3.2 and its `initialize_weights`):

        - every Linear: Xavier-uniform weight, zero bias (this includes the patch embedding, a linear map);
        - the time MLP: weights ~ N(0, 0.02^2) (DiT's timestep embedder);
        - adaLN-zero: every block's `modulation` Linear is zero (weight and bias), so every gate starts at 0 and
          every block starts as the identity on its residual stream (apart from the ungated cross-attention);
        - the final layer's `modulation_out` and `out` are zero, so the initial output is exactly zero;
        - norms: LayerNorm weights 1 and biases 0, RMSNorm (QK-norm) weights 1.
        """
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm) and m.elementwise_affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.RMSNorm):
                nn.init.ones_(m.weight)
        for layer in (self.t_embed[0], self.t_embed[2]):
            nn.init.normal_(layer.weight, std=0.02)
        for block in self.blocks:
            nn.init.zeros_(block.modulation.weight)
            nn.init.zeros_(block.modulation.bias)
        for layer in (self.modulation_out, self.out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def forward(self, x: Tensor, t: Tensor, text: Tensor, text_mask: Tensor) -> Tensor:
        """Velocity of latent `x (B, c, f, h, w)` at flow times `t (B, f)` (or `(B,)`, one for all frames).

        `text (B, L, D_text)` are the prompt's states and `text_mask (B, L)` bool marks real tokens (False =
        padding, ignored; a row with no real token gets no text). Returns `v (B, c, f, h, w)` in `x`'s dtype.
        """
        B, c, f, h, w = self._check(x, t, text, text_mask)
        # padding past the batch's longest prompt is masked out everywhere: drop it, cross-attention costs less
        # (prompts come padded to TextConfig.max_tokens; a short one uses a few of them)
        real = text_mask.any(dim=0).nonzero()                                      # (n, 1)
        L = int(real[-1, 0]) + 1 if len(real) else 1
        text, text_mask = text[:, :L], text_mask[:, :L]
        tokens = self.x_embed(patchify(x, self.cfg.patch_size))                    # (B, N, D)
        pf, ph, pw = self.cfg.patch_size
        grid = (f // pf, h // ph, w // pw)
        angles = rope_angles(grid, self.rope_dims, self.cfg.rope_theta, x.device)  # (N, head_dim/2)

        has_text = text_mask.any(dim=1)                                            # (B,)
        # an all-padding row would make SDPA return NaN: let it attend everywhere, then zero its text below
        mask = (text_mask | ~has_text[:, None])[:, None, None, :]                  # (B, 1, 1, L)
        text = self.text_embed(text.to(tokens.dtype))                              # (B, L, D)
        text = text * has_text[:, None, None].to(text.dtype)                       # (B, L, D)

        if t.ndim == 1:
            t = t[:, None].expand(B, f)                                            # (B, f)
        temb = time_embedding(t, self.cfg.time_freq_dim).to(tokens.dtype)          # (B, f, freq)
        temb = rearrange(temb, "B (f pf) d -> B f (pf d)", pf=pf)                  # (B, f', pf freq)
        cond = F.silu(self.t_embed(temb))                                          # (B, f', D)
        for block in self.blocks:
            tokens = block(tokens, cond, text, mask, angles)                       # (B, N, D)
        shift, scale = self.modulation_out(cond)[:, :, None].chunk(2, dim=-1)      # 2 x (B, f', 1, D)
        tokens = self.out(modulate(self.norm_out(tokens), shift, scale))           # (B, N, c pf ph pw)
        return unpatchify(tokens, self.cfg.patch_size, grid)                       # (B, c, f, h, w)

    @torch.no_grad()
    def grown(self, depth: int) -> "DiT":
        """A deeper copy of this model that computes exactly the same function: the new blocks are spread evenly
        between the old ones, each a copy of the block before it with its two adaLN gates and its (ungated)
        cross-attention output set to zero, so it starts as the identity on the residual stream and training
        opens it (progressive growing by depth; adaLN-zero makes it exact)."""
        old = self.cfg.depth
        if depth < old:
            raise TenkuError(f"a grown DiT must be at least as deep as this one ({old} blocks), got depth {depth}")
        cfg = dataclasses.replace(self.cfg, depth=depth)
        with torch.device("meta"):
            new = DiT(cfg)
        new = new.to_empty(device=next(self.parameters()).device).to(next(self.parameters()).dtype)
        state = {k: v for k, v in self.state_dict().items() if not k.startswith("blocks.")}
        # old block i goes to position i + (number of new blocks placed before it)
        extra = depth - old
        place = [i + (i * extra) // old for i in range(old)]  # positions of the old blocks
        for i, p in enumerate(place):
            for k, v in self.blocks[i].state_dict().items():
                state[f"blocks.{p}.{k}"] = v
        D = cfg.dim
        for p in range(depth):
            if p in place:
                continue
            src = max(q for q in place if q < p)  # the old block before it (place[0] is 0, so there is one)
            for k, v in self.blocks[place.index(src)].state_dict().items():
                state[f"blocks.{p}.{k}"] = v.clone()
            w, b = state[f"blocks.{p}.modulation.weight"], state[f"blocks.{p}.modulation.bias"]
            for chunk in (2, 5):  # gate1, gate2 of (shift1, scale1, gate1, shift2, scale2, gate2)
                w[chunk * D : (chunk + 1) * D] = 0
                b[chunk * D : (chunk + 1) * D] = 0
            state[f"blocks.{p}.cross.proj.weight"] = torch.zeros_like(state[f"blocks.{p}.cross.proj.weight"])
            state[f"blocks.{p}.cross.proj.bias"] = torch.zeros_like(state[f"blocks.{p}.cross.proj.bias"])
        new.load_state_dict(state)
        return new

    def _check(self, x: Tensor, t: Tensor, text: Tensor, text_mask: Tensor) -> tuple[int, int, int, int, int]:
        cfg = self.cfg
        if x.ndim != 5 or x.shape[1] != cfg.in_channels:
            raise TenkuError(f"x must be a latent (B, {cfg.in_channels}, f, h, w), got shape {tuple(x.shape)}")
        B, c, f, h, w = x.shape  # divisibility by the patch size is checked by `patchify`
        if tuple(t.shape) not in ((B,), (B, f)):
            raise TenkuError(f"t must be (B,) = ({B},) or (B, f) = ({B}, {f}), got shape {tuple(t.shape)}")
        if text.ndim != 3 or text.shape[0] != B or text.shape[2] != cfg.text_dim or text.shape[1] < 1:
            raise TenkuError(
                f"text must be (B, L, D_text) = ({B}, L >= 1, {cfg.text_dim}), got shape {tuple(text.shape)}"
            )
        if text_mask.dtype != torch.bool or tuple(text_mask.shape) != tuple(text.shape[:2]):
            raise TenkuError(
                f"text_mask must be a bool (B, L) = {tuple(text.shape[:2])} tensor, got {text_mask.dtype} "
                f"{tuple(text_mask.shape)}"
            )
        return B, c, f, h, w
