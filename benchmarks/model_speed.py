"""Model speed and memory per preset: parameters, training throughput, sampling time split by stage, peak memory.

    python3 benchmarks/model_speed.py                    # debug and world presets, CPU, median of 5 runs
    python3 benchmarks/model_speed.py --presets world --device cuda --repeats 10

Training: one AdamW step (forward, backward, clip, step) at batch 8 on 17x64x64 clips (the VAE) or on their
latents (the DiT, through `RectifiedFlow.loss`), median over `--repeats` timed steps after one warm-up step.
Sampling: one 4 s, 64x64 clip at 8 fps (33 frames, a 9x8x8 latent), 20 Euler steps with guidance (two DiT passes per
step, batched), split into text encoding, the transformer loop and VAE decoding; median over `--repeats` runs.
Weights are random: speed does not depend on them.

Every measurement runs in a fresh process, so the peak memory column is that measurement's own: peak resident set
size on the CPU (ru_maxrss, including the ~0.3-0.5 GB of python + torch + libraries, shown as the baseline row), or
`torch.cuda.max_memory_allocated` on CUDA.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import resource
import statistics
import sys
import time

PRESETS = {"debug": ("vae-debug", "dit-debug"), "world": ("vae-world", "dit-world")}
CLIP = (17, 64, 64)  # training clip F x H x W
SAMPLE = dict(seconds=4.0, fps=8, width=64, height=64, steps=20, guidance=4.0)


def _peak_mb(device: str) -> float:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _models(preset: str, device: str, threads: int):
    import torch

    if threads:
        torch.set_num_threads(threads)

    from tenku.config import DIT_PRESETS, VAE_PRESETS, DiTConfig, TextConfig, VAEConfig, from_preset
    from tenku.dit import DiT
    from tenku.text import load_text_encoder
    from tenku.vae import VideoVAE

    vae_name, dit_name = PRESETS[preset]
    torch.manual_seed(0)
    vae = VideoVAE(from_preset(VAEConfig, VAE_PRESETS, vae_name)).to(device)
    text = load_text_encoder(TextConfig(), device=device)
    # as in training: the DiT's widths follow from the VAE and the text encoder
    dit_cfg = from_preset(DiTConfig, DIT_PRESETS, dit_name, in_channels=vae.cfg.latent_channels, text_dim=text.dim)
    return vae, DiT(dit_cfg).to(device), text


def _train(preset: str, model: str, device: str, threads: int, batch: int, repeats: int, out) -> None:
    import torch

    from tenku.config import FlowConfig
    from tenku.flow import RectifiedFlow

    vae, dit, text = _models(preset, device, threads)
    g = torch.Generator(device).manual_seed(0)
    F, H, W = CLIP
    if model == "vae":
        module = vae
        x = torch.rand(batch, 3, F, H, W, generator=g, device=device) * 2 - 1

        def loss():
            return vae.loss(x, g)[0]
    else:
        module = dit
        c, f, h, w = vae.latent_shape(F, H, W)
        x0 = torch.randn(batch, c, f, h, w, generator=g, device=device)
        states, mask = text.encode(["a red ball bounces on the grass"] * batch)
        null, null_mask = text.encode([""])
        flow = RectifiedFlow(FlowConfig())

        def loss():
            return flow.loss(dit, x0, states, mask, null, null_mask, generator=g)[0]

    opt = torch.optim.AdamW(module.parameters(), lr=1e-4)
    times = []
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    for i in range(repeats + 1):
        _sync(device)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss().backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
        opt.step()
        _sync(device)
        if i:  # the first step warms up (allocator, kernels)
            times.append(time.perf_counter() - t0)
    step = statistics.median(times)
    params = sum(p.numel() for p in module.parameters())
    out.put({"params": params, "steps_per_s": 1 / step, "samples_per_s": batch / step, "peak_mb": _peak_mb(device)})


def _sample(preset: str, device: str, threads: int, repeats: int, out) -> None:
    import torch

    from tenku.config import FlowConfig, SampleConfig
    from tenku.flow import RectifiedFlow
    from tenku.pipeline import Pipeline

    vae, dit, text = _models(preset, device, threads)
    pipe = Pipeline(vae.eval(), dit.eval(), text, RectifiedFlow(FlowConfig()), SampleConfig(), device=device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    stages: dict[str, list[float]] = {"text": [], "transformer": [], "vae_decode": []}
    prompt = "a red ball bounces on the grass"
    for i in range(repeats + 1):
        with torch.no_grad():
            req = pipe.check_inputs(prompt, **SAMPLE)
            t0 = time.perf_counter()
            states, mask, null, null_mask = pipe.encode_prompt(prompt, "", [])
            _sync(device)
            t1 = time.perf_counter()
            noise = pipe.prepare_latents(req.frames, req.height, req.width, req.seed)
            latents = pipe._generate(states, mask, null, null_mask, noise, steps=req.steps, guidance=req.guidance)
            _sync(device)
            t2 = time.perf_counter()
            pipe.decode(latents)
            _sync(device)
            t3 = time.perf_counter()
        if i:
            stages["text"].append(t1 - t0)
            stages["transformer"].append(t2 - t1)
            stages["vae_decode"].append(t3 - t2)
    result = {k: statistics.median(v) for k, v in stages.items()}
    result["total"] = sum(result.values())
    result["peak_mb"] = _peak_mb(device)
    result["frames"] = req.frames
    out.put(result)


def _baseline(device: str, out) -> None:
    import torch  # noqa: F401

    import tenku.text  # noqa: F401  (transformers is imported lazily; the text rows include it)

    out.put({"peak_mb": _peak_mb(device)})


def run_isolated(fn, *args) -> dict:
    """Run fn(*args, queue) in a fresh process and return what it put on the queue."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=fn, args=(*args, q))
    p.start()
    result = q.get()
    p.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="debug,world")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    from rich.console import Console
    from rich.table import Table

    import torch

    console = Console()
    device = args.device
    threads = args.threads or torch.get_num_threads()
    where = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"{platform.machine()}, {threads} threads"
    console.print(f"torch {torch.__version__}, {device} ({where}), median of {args.repeats} runs", highlight=False)

    train = Table(title=f"training, batch {args.batch}, {'x'.join(map(str, CLIP))} clips (DiT: their latents)", title_justify="left")
    for col in ("preset", "model", "params", "steps/s", "samples/s", "peak MB"):
        train.add_column(col, justify="right" if col not in ("preset", "model") else "left")
    sample = Table(title="sampling one 4 s 64x64 clip (33 frames), 20 steps, guidance 4 (seconds)", title_justify="left")
    for col in ("preset", "text", "transformer", "VAE decode", "total", "peak MB"):
        sample.add_column(col, justify="right" if col != "preset" else "left")
    base = run_isolated(_baseline, device)
    for preset in args.presets.split(","):
        for model in ("vae", "dit"):
            r = run_isolated(_train, preset, model, device, args.threads, args.batch, args.repeats)
            train.add_row(preset, model, f"{r['params'] / 1e6:.2f}M", f"{r['steps_per_s']:.2f}", f"{r['samples_per_s']:.1f}", f"{r['peak_mb']:.0f}")
            console.print(f"  {preset} {model} training: {r['steps_per_s']:.2f} steps/s", highlight=False)
        r = run_isolated(_sample, preset, device, args.threads, args.repeats)
        sample.add_row(preset, f"{r['text']:.3f}", f"{r['transformer']:.3f}", f"{r['vae_decode']:.3f}", f"{r['total']:.3f}", f"{r['peak_mb']:.0f}")
        console.print(f"  {preset} sampling: {r['total']:.3f} s", highlight=False)
    if not device.startswith("cuda"):
        train.caption = f"peak MB is the process's peak RSS; python + torch + tenku.text alone: {base['peak_mb']:.0f} MB"
    console.print(train)
    console.print(sample)


if __name__ == "__main__":
    sys.exit(main())
