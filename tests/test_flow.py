import math

import pytest
import torch

from tenku.config import DIT_PRESETS, DiTConfig, FlowConfig, from_preset
from tenku.dit import DiT
from tenku.errors import TenkuError
from tenku.flow import RectifiedFlow, noise_to, shift_time, unshift_time


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


class Recorder:
    """A fake velocity model: `fn(x, t, text, mask) -> v`, remembering every call's inputs."""

    def __init__(self, fn):
        self.fn = fn
        self.calls: list[tuple[torch.Tensor, ...]] = []

    def __call__(self, x, t, text, mask):
        self.calls.append((x.clone(), t.clone(), text.clone(), mask.clone()))
        return self.fn(x, t, text, mask)


def straight_to(target):
    """The exact rectified-flow velocity towards `target`: (x_t - x0) / t = eps - x0 on the straight path."""
    return Recorder(lambda x, t, text, mask: (x - target) / t[:, None, :, None, None])


def text_batch(B=2, L=4, D=8):
    return torch.randn(B, L, D, generator=gen(9)), torch.ones(B, L, dtype=torch.bool)


# --- time --------------------------------------------------------------------------------------------------------


def test_noise_to_interpolates_per_frame():
    x0, eps = torch.zeros(1, 2, 3, 2, 2), torch.ones(1, 2, 3, 2, 2)
    xt = noise_to(x0, torch.tensor([[0.0, 0.25, 1.0]]), eps)
    assert xt[0, :, 0].eq(0).all() and xt[0, :, 1].eq(0.25).all() and xt[0, :, 2].eq(1).all()
    assert noise_to(x0, 0.5, eps).eq(0.5).all()


def test_time_shift_formula():
    assert shift_time(0.5, 3.0) == pytest.approx(0.75)  # 3 * 0.5 / (1 + 2 * 0.5)
    assert shift_time(0.0, 3.0) == 0.0 and shift_time(1.0, 3.0) == 1.0
    assert unshift_time(shift_time(0.3, 2.5), 2.5) == pytest.approx(0.3)
    flow = RectifiedFlow(FlowConfig())
    cfg = flow.cfg
    assert flow.shift_for(cfg.base_tokens) == pytest.approx(math.exp(cfg.base_shift))
    assert flow.shift_for(cfg.max_tokens) == pytest.approx(math.exp(cfg.max_shift))
    mid = math.isqrt(cfg.base_tokens * cfg.max_tokens)  # halfway in log
    assert flow.shift_for(mid) == pytest.approx(math.exp((cfg.base_shift + cfg.max_shift) / 2), rel=1e-3)
    assert flow.shift_for(1) == flow.shift_for(cfg.base_tokens)  # clamped below and above
    assert flow.shift_for(10 * cfg.max_tokens) == flow.shift_for(cfg.max_tokens)
    sizes = [256, 320, 1024, 9216, 131072]
    assert all(flow.shift_for(a) < flow.shift_for(b) for a, b in zip(sizes, sizes[1:]))


def test_sample_times_shapes_share_of_per_frame_and_median():
    flow = RectifiedFlow(FlowConfig(per_frame_prob=0.3, base_shift=0.0, max_shift=0.0))  # shift 1: plain logit-normal
    t = flow.sample_times(4000, 5, 320, gen())
    assert t.shape == (4000, 5) and t.dtype == torch.float32
    assert ((t > 0) & (t < 1)).all()
    per_frame = (t != t[:, :1]).any(dim=1).float().mean().item()
    assert per_frame == pytest.approx(0.3, abs=0.03)
    assert t.median().item() == pytest.approx(0.5, abs=0.02)
    shifted = RectifiedFlow(FlowConfig()).sample_times(4000, 5, 320, gen())
    assert shifted.median().item() > 0.55  # a shift > 1 moves times towards noise
    assert torch.equal(flow.sample_times(8, 3, 320, gen(1)), flow.sample_times(8, 3, 320, gen(1)))


def test_sample_conditions_patterns():
    flow = RectifiedFlow(FlowConfig(cond_prob=1.0))
    held = flow.sample_conditions(2000, 6, gen())
    assert held.shape == (2000, 6) and held.dtype == torch.bool
    assert (~held).any(dim=1).all()  # a frame always stays free to learn on
    assert held.any(dim=1).float().mean() > 0.95  # (only an empty random subset holds nothing)
    rows = {tuple(r) for r in held.int().tolist()}
    assert (1, 0, 0, 0, 0, 0) in rows and (0, 0, 0, 0, 0, 1) in rows and (1, 0, 0, 0, 0, 1) in rows
    assert (0, 1, 0, 1, 0, 0) in rows  # a storyboard
    share = RectifiedFlow(FlowConfig(cond_prob=0.3)).sample_conditions(4000, 6, gen()).any(dim=1).float().mean()
    assert share.item() == pytest.approx(0.3 * (1 - 0.25 / 64), abs=0.03)
    assert not flow.sample_conditions(100, 1, gen()).any()  # an image has nothing to hold


# --- loss --------------------------------------------------------------------------------------------------------


def test_loss_excludes_held_frames_and_sees_them_clean():
    flow = RectifiedFlow(FlowConfig(cond_prob=1.0))
    x0 = torch.zeros(64, 2, 5, 2, 2)
    # predicts 0 on free frames and nonsense on held ones (t = 0): held frames must not count
    model = Recorder(lambda x, t, text, mask: 1e3 * (t == 0).float()[:, None, :, None, None].expand_as(x))
    loss, metrics = flow.loss(model, x0, *text_batch(64), *text_batch(1), generator=gen())
    x, t, _, _ = model.calls[0]
    held = t == 0
    assert held.any() and metrics["held_frac"] == pytest.approx(held.float().mean().item())
    assert x.transpose(1, 2)[held].eq(0).all()  # held frames are the clean data
    # with x0 = 0, x_t = t eps, so the target eps - x0 on a free frame is x_t / t
    eps = (x / t.clamp_min(1e-12)[:, None, :, None, None]).transpose(1, 2)  # (B, f, c, h, w)
    expected = eps[~held].square().mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4)


def test_loss_weight_is_a_weighted_mean_over_latent_cells():
    flow = RectifiedFlow(FlowConfig(cond_prob=0.0))
    x0 = torch.zeros(8, 2, 3, 2, 2)
    model = Recorder(lambda x, t, text, mask: torch.zeros_like(x))  # error = target^2 = eps^2 where x0 = 0
    weight = torch.zeros(8, 3, 2, 2)
    weight[:, :, 0, 1] = 5.0  # only one cell counts
    loss, _ = flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen(), weight=weight)
    x, t, _, _ = model.calls[0]
    eps = x / t[:, None, :, None, None]  # (B, c, f, h, w)
    assert loss.item() == pytest.approx(eps[:, :, :, 0, 1].square().mean().item(), rel=1e-4)
    even, _ = flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen(), weight=torch.full((8, 3, 2, 2), 7.0))
    plain, _ = flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen())
    assert even.item() == pytest.approx(plain.item(), rel=1e-5)  # the weights' scale does not matter
    with pytest.raises(TenkuError, match=r"loss weight must be \(B, f, h, w\) = \(8, 3, 2, 2\), got \(8, 3\)"):
        flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen(), weight=torch.ones(8, 3))


def test_loss_weight_fade_moves_the_emphasis_to_low_noise():
    """weight_fade: a cell's weight is 1 + (w - 1) (1 - t), so pure noise weighs every cell alike."""
    flow = RectifiedFlow(FlowConfig(cond_prob=0.0))
    x0 = torch.zeros(8, 2, 3, 2, 2)
    model = Recorder(lambda x, t, text, mask: torch.zeros_like(x))
    weight = torch.ones(8, 3, 2, 2)
    weight[:, :, 0, 1] = 5.0
    loss, _ = flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen(), weight=weight, weight_fade=True)
    x, t, _, _ = model.calls[0]
    err = (x / t[:, None, :, None, None]).square().mean(dim=1)  # (B, f, h, w)
    faded = 1.0 + (weight - 1.0) * (1.0 - t)[:, :, None, None]
    assert loss.item() == pytest.approx(((err * faded).sum() / faded.sum()).item(), rel=1e-4)
    flat, _ = flow.loss(model, x0, *text_batch(8), *text_batch(1), generator=gen(), weight=weight)
    assert flat.item() == pytest.approx(((err * weight).sum() / weight.sum()).item(), rel=1e-4)
    assert flat.item() != pytest.approx(loss.item(), rel=1e-4)


def test_text_dropout_uses_the_null_prompt():
    text, mask = text_batch(B=6, L=4)
    null, null_mask = torch.zeros(1, 2, 8), torch.tensor([[True, False]])
    x0 = torch.randn(6, 2, 3, 2, 2, generator=gen())
    for p, expect_null in ((1.0, True), (0.0, False)):
        model = Recorder(lambda x, t, tx, m: torch.zeros_like(x))
        RectifiedFlow(FlowConfig(text_drop_prob=p)).loss(model, x0, text, mask, null, null_mask, generator=gen())
        _, _, seen, seen_mask = model.calls[0]
        assert seen.shape == (6, 4, 8)  # the shorter null prompt is padded to the text's length
        if expect_null:
            assert seen.eq(0).all() and seen_mask.eq(torch.tensor([True, False, False, False])).all()
        else:
            assert torch.equal(seen, text) and torch.equal(seen_mask, mask)


def test_same_seed_same_loss():
    model = DiT(from_preset(DiTConfig, DIT_PRESETS, "dit-debug"))
    with torch.no_grad():
        model.out.weight.normal_(0, 0.1)
    flow = RectifiedFlow(FlowConfig())
    x0 = torch.randn(2, 4, 3, 4, 4, generator=gen())
    text = torch.randn(2, 3, 32, generator=gen(1))
    args = (model, x0, text, torch.ones(2, 3, dtype=torch.bool), torch.zeros(1, 1, 32), torch.ones(1, 1, dtype=torch.bool))
    a, _ = flow.loss(*args, generator=gen(5))
    b, _ = flow.loss(*args, generator=gen(5))
    c, _ = flow.loss(*args, generator=gen(6))
    assert a.item() == b.item() and a.item() != c.item()


def test_debug_dit_overfits_one_latent():
    torch.manual_seed(0)
    model = DiT(from_preset(DiTConfig, DIT_PRESETS, "dit-debug"))
    flow = RectifiedFlow(FlowConfig())
    x0 = torch.randn(1, 4, 3, 4, 4, generator=gen()).expand(8, -1, -1, -1, -1)  # one latent, 8 noisings a step
    text, mask = torch.randn(8, 3, 32, generator=gen(1)), torch.ones(8, 3, dtype=torch.bool)
    null, null_mask = torch.zeros(1, 1, 32), torch.ones(1, 1, dtype=torch.bool)

    def evaluate() -> float:  # the same times and noise before and after
        with torch.no_grad():
            return sum(flow.loss(model, x0, text, mask, null, null_mask, generator=gen(100 + i))[0].item() for i in range(4))

    before = evaluate()  # about 2 per batch: the zero-init output against eps - x0
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    for step in range(30):
        loss, _ = flow.loss(model, x0, text, mask, null, null_mask, generator=gen(step))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert evaluate() < 0.7 * before


# --- sampling ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "shift"), [(1, None), (3, 1.0), (7, 3.0)])
def test_euler_lands_on_the_target_of_a_straight_field(steps, shift):
    target = torch.randn(2, 3, 4, 2, 2, generator=gen(1))
    noise = torch.randn(2, 3, 4, 2, 2, generator=gen(2))
    model = straight_to(target)
    out = RectifiedFlow(FlowConfig()).sample(model, noise, *text_batch(), steps=steps, guidance=1.0, shift=shift)
    torch.testing.assert_close(out, target, atol=1e-5, rtol=1e-5)
    assert len(model.calls) == steps and model.calls[0][1].eq(1.0).all()


def test_euler_on_a_linear_field_matches_the_closed_form():
    a, steps, s = 0.7, 5, 2.0
    noise = torch.randn(1, 2, 3, 2, 2, generator=gen())
    flow = RectifiedFlow(FlowConfig())
    out = flow.sample(Recorder(lambda x, *_: a * x), noise, *text_batch(1), steps=steps, guidance=1.0, shift=s)
    grid = [s * u / (1 + (s - 1) * u) for u in torch.linspace(1, 0, steps + 1).tolist()]
    factor = math.prod(1 + a * (grid[i + 1] - grid[i]) for i in range(steps))
    torch.testing.assert_close(out, noise * factor)
    fine = flow.sample(Recorder(lambda x, *_: a * x), noise, *text_batch(1), steps=400, guidance=1.0, shift=s)
    torch.testing.assert_close(fine, noise * math.exp(-a), atol=1e-3, rtol=1e-2)  # dx/dt = a x from t=1 to 0


def test_partial_start_for_edits():
    target = torch.randn(1, 2, 3, 2, 2, generator=gen(1))
    eps = torch.randn(1, 2, 3, 2, 2, generator=gen(2))
    model = straight_to(target)
    out = RectifiedFlow(FlowConfig()).sample(
        model, noise_to(target, 0.4, eps), *text_batch(1), steps=4, guidance=1.0, t_start=0.4
    )
    torch.testing.assert_close(out, target, atol=1e-5, rtol=1e-5)
    assert model.calls[0][1].max().item() == pytest.approx(0.4)


def test_known_frames_are_held_exactly_with_time_zero():
    target = torch.randn(2, 3, 4, 2, 2, generator=gen(1))
    known = torch.randn(2, 3, 4, 2, 2, generator=gen(3))
    known_mask = torch.tensor([[True, False, False, True], [False, True, False, False]])
    # a field that would pull every frame to `target` (guarded against t = 0 on held frames)
    model = Recorder(lambda x, t, *_: (x - target) / t.clamp_min(1e-3)[:, None, :, None, None])
    out = RectifiedFlow(FlowConfig()).sample(
        model, torch.randn(2, 3, 4, 2, 2, generator=gen(2)), *text_batch(), steps=5, guidance=1.0,
        known=known, known_mask=known_mask,
    )
    held = known_mask[:, None, :, None, None].expand_as(out)
    assert torch.equal(out[held], known[held])
    torch.testing.assert_close(out[~held], target[~held], atol=1e-5, rtol=1e-5)
    for x, t, _, _ in model.calls:
        assert t[known_mask].eq(0).all() and t[~known_mask].gt(0).all()
        assert torch.equal(x[held], known[held])


def test_context_noise_shows_held_frames_noised_and_still_returns_them_exactly():
    target = torch.randn(1, 3, 4, 2, 2, generator=gen(1))
    known = torch.randn(1, 3, 4, 2, 2, generator=gen(3))
    eps = torch.randn(1, 3, 4, 2, 2, generator=gen(4))
    known_mask = torch.tensor([[True, True, False, False]])
    model = Recorder(lambda x, t, *_: (x - target) / t.clamp_min(1e-3)[:, None, :, None, None])
    flow = RectifiedFlow(FlowConfig())
    out = flow.sample(model, torch.randn(1, 3, 4, 2, 2, generator=gen(2)), *text_batch(1), steps=4, guidance=1.0,
                      known=known, known_mask=known_mask, context_noise=0.2, context_eps=eps)
    held = known_mask[:, None, :, None, None].expand_as(out)
    assert torch.equal(out[held], known[held])
    torch.testing.assert_close(out[~held], target[~held], atol=1e-5, rtol=1e-5)
    seen = noise_to(known, 0.2, eps)
    for x, t, _, _ in model.calls:
        assert t[known_mask].eq(0.2).all() and t[~known_mask].gt(0).all()
        torch.testing.assert_close(x[held], seen[held])  # the same noise at every step
    with pytest.raises(TenkuError, match="context_noise > 0 needs context_eps of the shape of noise"):
        flow.sample(model, eps, *text_batch(1), steps=1, guidance=1.0, known=known, known_mask=known_mask,
                    context_noise=0.2)
    with pytest.raises(TenkuError, match=r"context_noise must be in \[0, 1\), got 1.0"):
        flow.sample(model, eps, *text_batch(1), steps=1, guidance=1.0, known=known, known_mask=known_mask,
                    context_noise=1.0, context_eps=eps)


def test_guidance_batches_text_and_null_and_one_means_unguided():
    text, mask = text_batch(B=2, L=4)
    null, null_mask = torch.zeros(1, 1, 8), torch.ones(1, 1, dtype=torch.bool)
    scale = lambda tx: tx.sum(dim=(1, 2))[:, None, None, None, None]  # noqa: E731  the text decides the field
    noise = torch.randn(2, 2, 3, 2, 2, generator=gen())
    flow = RectifiedFlow(FlowConfig())

    plain = Recorder(lambda x, t, tx, m: scale(tx) * x + 1)
    unguided = flow.sample(plain, noise, text, mask, steps=3, guidance=1.0)
    with_null = Recorder(lambda x, t, tx, m: scale(tx) * x + 1)
    same = flow.sample(with_null, noise, text, mask, steps=3, guidance=1.0, null_text=null, null_mask=null_mask)
    assert torch.equal(unguided, same) and all(c[0].shape[0] == 2 for c in with_null.calls)

    guided_model = Recorder(lambda x, t, tx, m: scale(tx) * x + 1)
    g = 3.0
    out = flow.sample(guided_model, noise, text, mask, steps=1, guidance=g, null_text=null, null_mask=null_mask)
    assert len(guided_model.calls) == 1 and guided_model.calls[0][0].shape[0] == 4  # one batched forward
    v_text, v_null = scale(text) * noise + 1, 1.0  # the null text sums to 0
    torch.testing.assert_close(out, noise - (v_null + g * (v_text - v_null)))


def test_sampling_is_deterministic_and_reports_progress():
    model = DiT(from_preset(DiTConfig, DIT_PRESETS, "dit-debug"))
    with torch.no_grad():
        model.out.weight.normal_(0, 0.1)
    flow = RectifiedFlow(FlowConfig())
    noise = torch.randn(1, 4, 2, 4, 4, generator=gen())
    text, mask = torch.randn(1, 3, 32, generator=gen(1)), torch.ones(1, 3, dtype=torch.bool)
    null, null_mask = torch.zeros(1, 1, 32), torch.ones(1, 1, dtype=torch.bool)
    seen = []
    kw = dict(steps=4, guidance=4.0, null_text=null, null_mask=null_mask)
    a = flow.sample(model, noise, text, mask, **kw, callback=lambda i, n: seen.append((i, n)))
    b = flow.sample(model, noise, text, mask, **kw)
    assert torch.equal(a, b) and not torch.equal(a, noise)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 4, "guidance": 2.0}, "guidance 2.0 != 1 needs null_text"),
        ({"steps": 0, "guidance": 1.0}, "steps must be at least 1, got 0"),
        ({"steps": 2, "guidance": 1.0, "t_start": 1.5}, r"t_start must be in \(0, 1\], got 1.5"),
        ({"steps": 2, "guidance": 1.0, "known": torch.zeros(1, 2, 3, 2, 2)}, "known and known_mask go together"),
    ],
)
def test_bad_sampler_arguments_are_named(kwargs, message):
    with pytest.raises(TenkuError, match=message):
        RectifiedFlow(FlowConfig()).sample(
            Recorder(lambda x, *_: x), torch.zeros(1, 2, 3, 2, 2), *text_batch(1), **kwargs
        )
