import pytest
import torch

from tenku.config import DIT_PRESETS, VAE_PRESETS, DiTConfig, VAEConfig, from_preset
from tenku.dit import DiT, apply_rope, patchify, rope_angles, unpatchify
from tenku.errors import TenkuError


def make_dit(seed: int = 0, **overrides) -> DiT:
    """The debug DiT with every weight nudged off its init: adaLN-zero makes the initial output exactly zero, so
    a test of what the output depends on needs live weights."""
    torch.manual_seed(seed)
    model = DiT(from_preset(DiTConfig, DIT_PRESETS, "dit-debug", **overrides))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


def inputs(B=2, f=3, h=4, w=6, L=5, seed=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 4, f, h, w, generator=g)
    t = torch.rand(B, f, generator=g)
    text = torch.randn(B, L, 32, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    mask[1:, 3:] = False  # prompts after the first have 3 tokens and 2 of padding
    return x, t, text, mask


@pytest.mark.parametrize("patch", [(1, 2, 2), (2, 2, 1), (1, 1, 1)])
def test_patchify_round_trip_and_token_order(patch):
    x = torch.randn(2, 4, 4, 6, 8)
    tokens = patchify(x, patch)
    pf, ph, pw = patch
    grid = (4 // pf, 6 // ph, 8 // pw)
    assert tokens.shape == (2, grid[0] * grid[1] * grid[2], 4 * pf * ph * pw)
    assert torch.equal(unpatchify(tokens, patch, grid), x)
    # token (f'=1, h'=2, w'=3) holds the block x[:, :, pf:2pf, 2ph:3ph, 3pw:4pw], channels first
    n = (1 * grid[1] + 2) * grid[2] + 3
    block = x[:, :, pf : 2 * pf, 2 * ph : 3 * ph, 3 * pw : 4 * pw].flatten(1)
    assert torch.equal(tokens[:, n], block)


def test_patchify_names_the_sizes():
    with pytest.raises(TenkuError, match=r"\(f, h, w\) = \(3, 5, 6\) must be divisible by .* \(1, 2, 2\)"):
        patchify(torch.zeros(1, 4, 3, 5, 6), (1, 2, 2))


def test_rotary_scores_depend_only_on_offsets_in_f_h_w():
    grid, dims = (3, 4, 5), (4, 6, 6)  # head_dim 16
    angles = rope_angles(grid, dims, 10000.0, torch.device("cpu"))
    assert angles.shape == (60, 8)
    g = torch.Generator().manual_seed(0)
    q = apply_rope(torch.randn(16, generator=g).expand(1, 1, 60, 16), angles)[0, 0]
    k = apply_rope(torch.randn(16, generator=g).expand(1, 1, 60, 16), angles)[0, 0]
    scores = q @ k.T  # (60, 60)

    def n(f, h, w):
        return (f * 4 + h) * 5 + w

    torch.testing.assert_close(scores[n(0, 0, 0), n(1, 2, 3)], scores[n(1, 1, 1), n(2, 3, 4)])
    for other in (n(2, 2, 3), n(1, 3, 3), n(1, 2, 4)):  # each axis moves the score
        assert not torch.allclose(scores[n(0, 0, 0), n(1, 2, 3)], scores[n(0, 0, 0), other])


def test_zero_init_output_is_exactly_zero():
    torch.manual_seed(0)
    model = DiT(from_preset(DiTConfig, DIT_PRESETS, "dit-debug"))
    v = model(*inputs())
    assert v.shape == (2, 4, 3, 4, 6)
    assert torch.equal(v, torch.zeros_like(v))


def test_meta_build_then_init_weights_sets_every_parameter():
    cfg = from_preset(DiTConfig, DIT_PRESETS, "dit-debug")
    with torch.device("meta"):
        model = DiT(cfg)
    model.to_empty(device="cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))
    model.init_weights()
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert torch.equal(model(*inputs()), torch.zeros(2, 4, 3, 4, 6))


def test_one_time_for_all_frames_is_broadcast():
    model = make_dit()
    x, t, text, mask = inputs()
    one = t[:, 0]
    torch.testing.assert_close(model(x, one, text, mask), model(x, one[:, None].expand(-1, 3), text, mask))


def test_each_frame_has_its_own_time():
    model = make_dit()
    x, t, text, mask = inputs()
    t2 = t.clone()
    t2[:, 1] = 1 - t2[:, 1]
    a, b = model(x, t, text, mask), model(x, t2, text, mask)
    assert (a[:, :, 1] - b[:, :, 1]).abs().max() > 1e-3  # frame 1's own modulation changed


def test_patch_in_time_keeps_each_frame_time():
    model = make_dit(patch_size=(2, 2, 2))
    x, t, text, mask = inputs(f=4)
    t2 = t.clone()
    t2[:, 1] = 1 - t2[:, 1]  # the second latent frame of the first token frame
    assert not torch.allclose(model(x, t, text, mask), model(x, t2, text, mask))


def test_padded_text_tokens_do_not_matter():
    model = make_dit()
    x, t, text, mask = inputs()
    changed = text.clone()
    changed[1, 3:] = 100.0  # padding of the second prompt
    a, b = model(x, t, text, mask), model(x, t, changed, mask)
    assert torch.equal(a, b)
    changed[1, 0, :4] += 1.0  # a real token does matter (not a uniform shift, which the text LayerNorm removes)
    assert not torch.allclose(a[1], model(x, t, changed, mask)[1])


def test_trailing_padding_changes_nothing():
    """The model drops padding past the longest prompt: more of it gives the same velocity."""
    model = make_dit()
    x, t, text, mask = inputs()
    longer = torch.cat([text, torch.randn(text.shape[0], 20, text.shape[2])], dim=1)
    longer_mask = torch.cat([mask, torch.zeros(mask.shape[0], 20, dtype=torch.bool)], dim=1)
    torch.testing.assert_close(model(x, t, longer, longer_mask), model(x, t, text, mask))
    none = torch.zeros_like(longer_mask)  # no text in the whole batch still runs, as no text
    torch.testing.assert_close(model(x, t, longer, none), model(x, t, text, torch.zeros_like(mask)))


def test_all_padded_text_row_is_safe_and_means_no_text():
    model = make_dit()
    x, t, text, mask = inputs()
    mask[0] = False
    a = model(x, t, text, mask)
    assert torch.isfinite(a).all()
    other = text.clone()
    other[0] = torch.randn_like(other[0])
    torch.testing.assert_close(model(x, t, other, mask)[0], a[0])


def test_samples_in_a_batch_are_independent():
    model = make_dit()
    x, t, text, mask = inputs()
    both = model(x, t, text, mask)
    torch.testing.assert_close(model(x[1:], t[1:], text[1:], mask[1:]), both[1:], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("f", "h", "w"), [(1, 2, 2), (5, 4, 12), (2, 10, 2), (7, 6, 4)])
def test_any_duration_resolution_and_aspect_ratio_runs(f, h, w):
    model = make_dit()
    x, t, text, mask = inputs(B=1, f=f, h=h, w=w)
    v = model(x, t, text, mask)
    assert v.shape == x.shape and torch.isfinite(v).all()


def test_backward_reaches_every_parameter():
    model = make_dit()
    model(*inputs()).square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("x", r"x must be a latent \(B, 4, f, h, w\), got shape \(2, 3, 3, 4, 6\)"),
        ("t", r"t must be \(B,\) = \(2,\) or \(B, f\) = \(2, 3\), got shape \(2, 4\)"),
        ("text", r"text must be \(B, L, D_text\) = \(2, L >= 1, 32\), got shape \(2, 5, 31\)"),
        ("mask", "text_mask must be a bool"),
        ("grid", r"\(f, h, w\) = \(3, 5, 6\) must be divisible"),
    ],
)
def test_bad_inputs_are_named(change, message):
    model = make_dit()
    x, t, text, mask = inputs()
    if change == "x":
        x = x[:, :3]
    elif change == "t":
        t = torch.rand(2, 4)
    elif change == "text":
        text = text[..., :31]
    elif change == "mask":
        mask = mask.float()
    elif change == "grid":
        x = torch.randn(2, 4, 3, 5, 6)
    with pytest.raises(TenkuError, match=message):
        model(x, t, text, mask)


def test_world_presets_fit_together():
    vae = from_preset(VAEConfig, VAE_PRESETS, "vae-world")
    dit = from_preset(DiTConfig, DIT_PRESETS, "dit-world")
    assert dit.in_channels == vae.latent_channels
    assert dit.derived()["patch_values"] * 4 <= dit.dim  # values per token well under the width
    for name in DIT_PRESETS:
        cfg = from_preset(DiTConfig, DIT_PRESETS, name)
        assert sum(cfg.derived()["rope_dims"]) == cfg.dim // cfg.heads


def test_grown_model_computes_the_same_function_and_then_trains_its_new_blocks():
    model = make_dit()
    depth = model.cfg.depth
    grown = model.grown(depth + 3)
    assert grown.cfg.depth == depth + 3 and model.cfg.depth == depth  # the original is untouched
    args = inputs()
    with torch.no_grad():
        assert torch.allclose(grown(*args), model(*args), atol=1e-6)
    # the new blocks are not dead: their gates and cross-attention output get gradients and move the output
    grown(*args).square().mean().backward()
    old = {i + (i * 3) // depth for i in range(depth)}
    new = [p for p in range(depth + 3) if p not in old]
    assert len(new) == 3
    for p in new:
        assert grown.blocks[p].modulation.weight.grad.abs().sum() > 0
        assert grown.blocks[p].cross.proj.weight.grad.abs().sum() > 0
    with pytest.raises(TenkuError, match=f"at least as deep as this one \\({depth} blocks\\), got depth {depth - 1}"):
        model.grown(depth - 1)
