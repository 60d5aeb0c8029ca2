import pytest
import torch
from torch import nn

from tenku.config import VAE_PRESETS, VAEConfig, from_preset
from tenku.errors import TenkuError
from tenku.vae import VideoVAE, hard_pixels, psnr, ssim


def make_vae(seed: int = 0) -> VideoVAE:
    """The debug VAE with every weight nudged off its init, so that no path is zero (the residual blocks start
    as the identity) and every dependency a test looks for is live."""
    torch.manual_seed(seed)
    vae = VideoVAE(from_preset(VAEConfig, VAE_PRESETS, "vae-debug"))
    with torch.no_grad():
        for p in vae.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return vae


def video(B: int, F: int, H: int, W: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, 3, F, H, W, generator=g) * 2 - 1


def test_fast_conv3d_equals_the_module_and_trains():
    """The direct oneDNN call gives what nn.Conv3d gives, forward and backward, for a batch-1 input small enough
    that PyTorch would pick its slow native kernel, and for a strided one."""
    from tenku.vae import conv3d

    torch.manual_seed(0)
    for conv in (nn.Conv3d(8, 16, 3, padding=(0, 1, 1)), nn.Conv3d(8, 16, 3, stride=(2, 2, 2), padding=(0, 1, 1))):
        x = torch.randn(1, 8, 5, 12, 12, requires_grad=True)
        fast, slow = conv3d(x, conv), conv(x)
        torch.testing.assert_close(fast, slow, atol=1e-5, rtol=1e-5)
        (gx_fast, gw_fast), (gx, gw) = (torch.autograd.grad(y.square().sum(), (x, conv.weight)) for y in (fast, slow))
        torch.testing.assert_close(gx_fast, gx, atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(gw_fast, gw, atol=1e-4, rtol=1e-4)


def test_presets_are_8x_in_space_and_4x_in_time():
    for name in VAE_PRESETS:
        d = from_preset(VAEConfig, VAE_PRESETS, name).derived()
        assert (d["spatial_factor"], d["temporal_factor"]) == (8, 4), name


def test_shapes_and_loss():
    vae = make_vae()
    x = video(2, 9, 16, 24)
    mean, logvar = vae.encode(x)
    assert mean.shape == logvar.shape == (2, 4, 3, 2, 3)
    assert vae.latent_shape(9, 16, 24) == (4, 3, 2, 3)
    assert vae.decode(mean).shape == x.shape
    loss, metrics = vae.loss(x, generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss)
    assert set(metrics) == {"loss", "l1", "hard", "ssim", "kl", "psnr"}
    assert all(p.grad is not None for p in vae.parameters())


def test_hard_pixels_is_the_mean_of_the_worst_fraction():
    err = torch.tensor([[0.0] * 96 + [1.0, 2.0, 3.0, 4.0], [0.5] * 100])
    torch.testing.assert_close(hard_pixels(err, 0.02), torch.tensor([3.5, 0.5]))
    torch.testing.assert_close(hard_pixels(err, 0.001), torch.tensor([4.0, 0.5]))  # never fewer than one pixel
    with pytest.raises(TenkuError, match=r"hard_fraction must be in \(0, 1\], got 0.0"):
        hard_pixels(err, 0.0)


def test_loss_weighs_a_small_erased_object_by_the_hard_term():
    """A reconstruction that erases a 2x2 object from a plain 16x16 clip costs little L1 (1.6% of the pixels)
    but the whole hard term: the loss with the term is far above the loss without it."""
    x = torch.full((1, 3, 1, 16, 16), -0.5)
    x[:, :, :, 4:6, 4:6] = 0.9
    erased = torch.full_like(x, -0.5)
    err = (erased - x).abs().mean(dim=1).flatten(1)
    assert err.mean() < 0.03 and hard_pixels(err, 0.02).item() > 1.0


def test_weighted_l1_is_a_weighted_mean_and_counts_the_heavy_pixels_more():
    vae = make_vae()
    x = video(2, 5, 16, 16)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731 -- the same posterior draw for every call
    _, plain = vae.loss(x, g())
    _, ones = vae.loss(x, g(), torch.ones(2, 5, 16, 16))
    assert ones["l1"] == pytest.approx(plain["l1"]) and ones["l1_plain"] == pytest.approx(plain["l1"])
    # the weighted L1 is the weighted mean of the per-pixel errors: weighing up one pixel pulls it toward its error
    recon, _, _ = vae(x, g())
    err = (recon - x).abs().mean(dim=1)  # (B, F, H, W)
    w = torch.ones(2, 5, 16, 16)
    w[0, 2, 3, 4] = 100.0
    _, heavy = vae.loss(x, g(), w)
    assert heavy["l1"] == pytest.approx(((err * w).sum() / w.sum()).item(), rel=1e-5)
    with pytest.raises(TenkuError, match=r"weight must be \(B, F, H, W\) = \(2, 5, 16, 16\), got \(2, 5, 16\)"):
        vae.loss(x, g(), torch.ones(2, 5, 16))


def test_image_is_a_one_frame_video():
    vae = make_vae()
    x = video(1, 1, 16, 16)
    mean, _ = vae.encode(x)
    assert mean.shape == (1, 4, 1, 2, 2)
    assert vae.decode(mean).shape == (1, 3, 1, 16, 16)
    # and it is exactly the first latent frame of any video that starts with it
    longer = torch.cat([x, video(1, 8, 16, 16, seed=2)], dim=2)
    torch.testing.assert_close(vae.encode(longer)[0][:, :, :1], mean)


def test_encoder_is_causal():
    vae = make_vae()
    x = video(1, 17, 16, 16)
    changed = x.clone()
    changed[:, :, 5] = -changed[:, :, 5]  # frame 5 feeds latent frame ceil(5/4) = 2 and later
    a, _ = vae.encode(x)
    b, _ = vae.encode(changed)
    assert torch.equal(a[:, :, :2], b[:, :, :2])
    assert not torch.allclose(a[:, :, 2], b[:, :, 2])


def test_decoder_is_causal():
    vae = make_vae()
    z = torch.randn(1, 4, 5, 2, 2)
    changed = z.clone()
    changed[:, :, 2] += 1.0  # latent frame 2 stands for output frames 5..8
    a, b = vae.decode(z), vae.decode(changed)
    assert torch.equal(a[:, :, :5], b[:, :, :5])
    assert not torch.allclose(a[:, :, 5], b[:, :, 5])


@pytest.mark.parametrize("chunk", [1, 3])
def test_chunked_streaming_equals_full_pass(chunk):
    vae = make_vae()
    x = video(1, 33, 16, 16)  # 9 latent frames: the first alone, then chunks of `chunk` (3 leaves a short last one)
    with torch.no_grad():
        mean, logvar = vae.encode(x)
        mean_c, logvar_c = vae.encode_video(x, chunk_latent_frames=chunk)
        torch.testing.assert_close(mean_c, mean, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(logvar_c, logvar, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(vae.decode_video(mean, chunk_latent_frames=chunk), vae.decode(mean), atol=1e-5, rtol=1e-5)


def test_streaming_handles_an_image_and_the_default_chunk():
    vae = make_vae()
    x = video(1, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(vae.encode_video(x)[0], vae.encode(x)[0])
        z = torch.randn(1, 4, 1, 1, 1)
        torch.testing.assert_close(vae.decode_video(z), vae.decode(z))


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 3, 16, 16, 16), "frames - 1 must be divisible by the VAE's temporal factor 4"),
        ((1, 3, 5, 20, 16), "multiples of the VAE's spatial factor 8, got 20x16"),
        ((1, 4, 5, 16, 16), r"video must be \(B, 3, F, H, W\)"),
        ((3, 5, 16, 16), r"video must be \(B, 3, F, H, W\)"),
    ],
)
def test_bad_video_shapes_are_named(shape, message):
    with pytest.raises(TenkuError, match=message):
        make_vae().encode(torch.zeros(shape))


def test_bad_latent_and_chunk_are_named():
    vae = make_vae()
    with pytest.raises(TenkuError, match=r"latent must be \(B, 4, f, h, w\), got shape \(1, 3, 2, 2, 2\)"):
        vae.decode(torch.zeros(1, 3, 2, 2, 2))
    with pytest.raises(TenkuError, match="chunk_latent_frames must be at least 1, got 0"):
        vae.decode_video(torch.zeros(1, 4, 2, 2, 2), chunk_latent_frames=0)


def test_meta_build_then_init_weights_sets_every_parameter():
    cfg = from_preset(VAEConfig, VAE_PRESETS, "vae-debug")
    with torch.device("meta"):
        vae = VideoVAE(cfg)
    vae.to_empty(device="cpu")
    with torch.no_grad():
        for p in vae.parameters():
            p.fill_(float("nan"))
    vae.init_weights()
    assert all(torch.isfinite(p).all() for p in vae.parameters())
    reference = VideoVAE(cfg)  # same rules, so the same norms and zeros
    assert torch.equal(vae.decoder.blocks[0].conv2.conv.weight, reference.decoder.blocks[0].conv2.conv.weight)


def test_normalize_round_trip():
    vae = VideoVAE(from_preset(VAEConfig, VAE_PRESETS, "vae-debug", latent_shift=0.3, latent_scale=2.5))
    z = torch.randn(2, 4, 2, 2, 2)
    torch.testing.assert_close(vae.denormalize(vae.normalize(z)), z)
    torch.testing.assert_close(vae.normalize(z), (z - 0.3) * 2.5)


def test_psnr_and_ssim():
    a = torch.zeros(2, 3, 1, 16, 16)
    assert torch.allclose(psnr(a, a + 0.2), torch.full((2,), 20.0))  # MSE 0.04 over a peak-to-peak of 2
    assert torch.allclose(psnr(a, a), torch.full((2,), 100.0))
    x = video(2, 3, 24, 24)
    assert torch.allclose(ssim(x, x), torch.ones(2))
    from skimage.metrics import structural_similarity

    noisy = (x + 0.3 * torch.randn(x.shape, generator=torch.Generator().manual_seed(3))).clamp(-1, 1)
    frame = (x[0, :, 1].numpy(), noisy[0, :, 1].numpy())
    expected = structural_similarity(
        *frame, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=2.0, channel_axis=0
    )
    assert ssim(x[:1, :, 1], noisy[:1, :, 1]).item() == pytest.approx(expected, abs=1e-4)


def test_a_few_steps_fit_one_clip():
    torch.manual_seed(0)
    vae = VideoVAE(from_preset(VAEConfig, VAE_PRESETS, "vae-debug"))
    x = torch.full((1, 3, 5, 16, 16), -0.5)  # a flat-coloured square moving right over a flat background
    x[:, 1] = 0.3
    for i in range(5):
        x[0, :, i, 4:10, 2 + 2 * i : 8 + 2 * i] = torch.tensor([0.9, -0.8, 0.2])[:, None, None]
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    losses = []
    for step in range(30):
        loss, _ = vae.loss(x, generator=torch.Generator().manual_seed(step))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.7 * sum(losses[:5])
