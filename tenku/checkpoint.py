"""Checkpoints as folders: a manifest, one subfolder per component (config.json + model.safetensors), a model card.

    tenku-world/
      manifest.json        {"format": "tenku", "version": 1, "components": {"vae": {...}, "dit": {...}, "text": {...}}}
      README.md            model card: what it is, how it was trained, how to use it
      vae/config.json      the VAEConfig the weights belong to (`tenku.config.to_dict`)
      vae/model.safetensors
      dit/config.json
      dit/model.safetensors

Nothing is pickled: configs are JSON, weights are safetensors (optionally stored as fp16, loaded back into the
model's own dtype). Every folder is written under a temporary name, fsynced and renamed into place, so a crash
leaves either the old checkpoint or the new one, never half of one. Loading rebuilds each model from its saved
config, so a preset changed in code later cannot silently mismatch old weights.

Every problem is one `CheckpointError` line naming the file, what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

from tenku.config import from_dict, to_dict
from tenku.errors import CheckpointError, TenkuError

FORMAT = "tenku"
VERSION = 1
MANIFEST = "manifest.json"
CONFIG = "config.json"
WEIGHTS = "model.safetensors"

M = TypeVar("M", bound=nn.Module)
C = TypeVar("C")


# --- atomic folders --------------------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    """Flush one file or folder to disk (best effort: folders cannot be opened for fsync on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root`, children before parents."""
    for path in sorted(root.rglob("*"), reverse=True) + [root]:
        _fsync(path)


def _replace_dir(tmp: Path, final: Path) -> None:
    """Move the finished folder `tmp` to `final`, replacing an existing one: old -> .old, new -> final, rm old.

    Directories cannot be swapped in one rename, so a crash between the two renames leaves `final` missing and
    the previous version intact at `.{name}.old-*` (named in the folder next to it)."""
    old = None
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old-", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(tmp, final)
    _fsync(final.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class AtomicDir:
    """`with AtomicDir(final) as tmp:` write into `tmp`; on success it becomes `final`, on error it vanishes."""

    def __init__(self, final: str | os.PathLike):
        self.final = Path(final)

    def __enter__(self) -> Path:
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.final.name}.tmp-", dir=self.final.parent))
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        _fsync_tree(self.tmp)
        _replace_dir(self.tmp, self.final)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


# --- components ------------------------------------------------------------------------------------------------


INT8_SCALE = ".int8_row_scale"  # key suffix of an int8-stored matrix's per-row scales
INT8_MIN_NUMEL = 4096  # smaller matrices (and every vector) stay fp16


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A float matrix `(rows, cols)` -> int8 `(rows, cols)` and fp16 scales `(rows,)`, symmetric per row
    (`w ~ q * scale[:, None]`, each row's largest magnitude at +-127)."""
    w = w.detach().float()
    scale = (w.abs().amax(dim=1) / 127.0).clamp_min(1e-12)
    scale = scale.half().float().clamp_min(6e-8)  # the scale that is stored (fp16) is the one that rounds
    q = torch.round(w / scale[:, None]).clamp(-127, 127).to(torch.int8)
    return q, scale.half()


def dequantize_int8(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Undo `quantize_int8` for every matrix stored with its scales (others pass through unchanged)."""
    out = {}
    for k, v in state.items():
        if k.endswith(INT8_SCALE):
            continue
        scale = state.get(k + INT8_SCALE)
        out[k] = v.float() * scale.float()[:, None] if scale is not None else v
    return out


def _write_component(folder: Path, module: nn.Module, cfg: Any, dtype: torch.dtype | None) -> dict[str, Any]:
    """`dtype` None keeps each tensor's own; a float dtype stores every float tensor in it; `torch.int8` stores each
    weight matrix of at least INT8_MIN_NUMEL values as int8 with a fp16 scale per row and the rest as fp16
    (about half of fp16's bytes for a transformer; loading turns them back into floats)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / CONFIG, to_dict(cfg))
    state = {}
    for k, v in module.state_dict().items():
        v = v.detach()
        if dtype == torch.int8 and v.is_floating_point() and v.ndim == 2 and v.numel() >= INT8_MIN_NUMEL:
            state[k], state[k + INT8_SCALE] = (t.to("cpu").contiguous() for t in quantize_int8(v))
            continue
        if dtype is not None and v.is_floating_point():
            v = v.to(torch.float16 if dtype == torch.int8 else dtype)
        state[k] = v.to("cpu").contiguous()
    # tied weights share storage; safetensors refuses shared tensors, so store each as its own copy
    seen: set[int] = set()
    for k, v in state.items():
        ptr = v.untyped_storage().data_ptr()
        if ptr in seen:
            state[k] = v.clone()
        seen.add(ptr)
    save_file(state, str(folder / WEIGHTS), metadata={"format": "pt"})
    stored = {None: "native", torch.int8: "int8+float16"}.get(dtype) or str(dtype).removeprefix("torch.")
    return {"path": folder.name, "class": f"{type(module).__module__}.{type(module).__qualname__}",
            "params": sum(p.numel() for p in module.parameters()), "storage_dtype": stored}


def save_component(dir: str | os.PathLike, name: str, module: nn.Module, cfg: Any, dtype: torch.dtype | None = None) -> Path:
    """Write `dir/name/{config.json, model.safetensors}` atomically; `dtype=torch.float16` halves the file."""
    final = Path(dir) / name
    with AtomicDir(final) as tmp:
        _write_component(tmp, module, cfg, dtype)
    return final


def load_config(dir: str | os.PathLike, name: str, cfg_cls: type[C]) -> C:
    """Read `dir/name/config.json` into `cfg_cls`; unknown keys are an error."""
    path = Path(dir) / name / CONFIG
    _require_file(path, dir)
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}); the checkpoint is corrupt, save or train it again") from None
    try:
        return from_dict(cfg_cls, data)
    except TenkuError as e:
        raise CheckpointError(
            f"{path}: {e}; it was written by a different tenku version, upgrade tenku or retrain"
        ) from None
    except TypeError as e:
        raise CheckpointError(f"{path}: not a valid {cfg_cls.__name__} ({e}); save or train it again") from None


def load_state(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a safetensors file to CPU tensors, with a one-line error if it is missing or corrupt."""
    from safetensors.torch import load_file

    path = Path(path)
    _require_file(path, path.parent)
    try:
        return load_file(str(path), device="cpu")
    except Exception as e:  # SafetensorError, OSError, ...: all mean the same thing to the user
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise CheckpointError(
            f"{path} is not a readable safetensors file ({reason}); it is truncated or corrupt, save or train it again"
        ) from None


def check_state(prefix: str, module: nn.Module, state: dict[str, torch.Tensor], source: Path) -> None:
    """Raise a CheckpointError naming the first missing, unexpected or wrongly shaped tensor."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        what = f"missing {prefix}.{missing[0]}" if missing else f"unexpected {prefix}.{unexpected[0]}"
        more = len(missing) + len(unexpected) - 1
        raise CheckpointError(
            f"checkpoint from an incompatible model: {what}" + (f" (and {more} more)" if more else "")
            + f" in {source}; it was saved from a different model version, retrain or use a matching tenku"
        )
    for k, v in expected.items():
        if tuple(v.shape) != tuple(state[k].shape):
            raise CheckpointError(
                f"checkpoint from an incompatible config: {prefix}.{k} expected {tuple(v.shape)}, got "
                f"{tuple(state[k].shape)}; {source.parent / CONFIG} does not match its weights, save them together again"
            )


def load_component(
    dir: str | os.PathLike, name: str, cls: type[M], cfg_cls: type[C], device: str | torch.device = "cpu"
) -> tuple[M, C]:
    """Rebuild `cls(cfg)` from `dir/name/config.json` and load `dir/name/model.safetensors` into it, in eval mode."""
    folder = Path(dir) / name
    if not folder.is_dir():
        _require_dir(Path(dir))
        raise CheckpointError(f"{folder} is missing: the checkpoint has no {name!r} component; save it with save_component")
    cfg = load_config(dir, name, cfg_cls)
    state = dequantize_int8(load_state(folder / WEIGHTS))
    try:
        module = cls(cfg)
    except TenkuError as e:
        raise CheckpointError(f"{folder / CONFIG}: cannot build {cls.__name__} from it ({e})") from None
    check_state(name, module, state, folder / WEIGHTS)
    module.load_state_dict(state)  # copies into the model's own dtype (fp16 storage -> fp32 weights)
    return module.to(device).eval(), cfg


# --- pipelines -------------------------------------------------------------------------------------------------


def save_pipeline(
    dir: str | os.PathLike,
    modules: dict[str, tuple[nn.Module, Any]],
    extra: dict[str, dict[str, Any]] | None = None,
    card: str = "",
    dtype: torch.dtype | dict[str, torch.dtype | None] | None = None,
    info: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    """Write a whole pipeline folder atomically.

    modules: name -> (module, config), e.g. {"vae": (vae, vae_cfg), "dit": (dit, dit_cfg)}, each a subfolder.
    extra: components without weights, stored in the manifest itself, e.g. {"text": {"encoder": "minilm", ...},
    "flow": to_dict(flow_cfg)}. info: top-level manifest entries that are not components (e.g. "sample"
    defaults, a "train" summary). dtype: the storage of every module (see `_write_component`), or a dict of
    module name -> storage (e.g. {"dit": torch.int8, "vae": torch.float16}). card: the README.md body (a short
    default is written when empty). files: more text files inside the folder, relative path -> text (e.g. the
    training logs).
    """
    final = Path(dir)
    components: dict[str, dict[str, Any]] = {}
    with AtomicDir(final) as tmp:
        for name, (module, cfg) in modules.items():
            stored = dtype.get(name) if isinstance(dtype, dict) else dtype
            components[name] = _write_component(tmp / name, module, cfg, stored)
        for name, data in (extra or {}).items():
            if name in components:
                raise TenkuError(f"component {name!r} given twice (as a module and as extra)")
            components[name] = dict(data)
        reserved = {"format", "version", "components"} & set(info or {})
        if reserved:
            raise TenkuError(f"info keys {sorted(reserved)} are reserved for the manifest itself")
        write_json(tmp / MANIFEST, {"format": FORMAT, "version": VERSION, "components": components, **(info or {})})
        (tmp / "README.md").write_text(card or _default_card(final.name, components))
        for rel, text in (files or {}).items():
            path = tmp / rel
            if not path.resolve().is_relative_to(tmp.resolve()):
                raise TenkuError(f"file {rel!r} would land outside the pipeline folder")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return final


def load_manifest(dir: str | os.PathLike) -> dict[str, Any]:
    """Read and check `dir/manifest.json`."""
    root = Path(dir)
    _require_dir(root)
    path = root / MANIFEST
    _require_file(path, root)
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}); the checkpoint is corrupt, save or train it again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a tenku manifest (format {manifest.get('format') if isinstance(manifest, dict) else None!r}, expected {FORMAT!r})")
    if manifest.get("version") != VERSION:
        raise CheckpointError(
            f"{path} has manifest version {manifest.get('version')!r}, this tenku reads version {VERSION}; upgrade tenku"
        )
    if not isinstance(manifest.get("components"), dict):
        raise CheckpointError(f"{path} names no components; the checkpoint is corrupt, save or train it again")
    return manifest


def resolve_checkpoint(path: str | os.PathLike, component: str) -> Path:
    """A checkpoint folder holding `component`: `path` itself, or `path/model` (the --out of a training run)."""
    path = Path(path).expanduser()
    for candidate in (path, path / "model"):
        if (candidate / "manifest.json").is_file():
            if component not in load_manifest(candidate)["components"]:
                raise CheckpointError(f"{candidate} has no {component!r} component; pass the --out of `tenku train {component}`")
            return candidate
    load_manifest(path)  # raises the one-line error for a missing folder or manifest
    return path


def _require_dir(root: Path) -> None:
    if not root.is_dir():
        raise CheckpointError(
            f"checkpoint folder {root} does not exist; train one with `tenku train vae` then `tenku train dit`, "
            "or pass the path of an existing one"
        )


def _require_file(path: Path, root: str | os.PathLike) -> None:
    if not path.is_file():
        _require_dir(Path(root))
        raise CheckpointError(f"{path} is missing; the checkpoint is incomplete, save or train it again")


def _default_card(name: str, components: dict[str, dict[str, Any]]) -> str:
    lines = [f"# {name}", "", "A tenku text-to-video checkpoint: a folder of JSON configs and safetensors weights, nothing pickled.", ""]
    lines += ["| component | class | parameters |", "|---|---|---|"]
    for cname, c in components.items():
        if "params" in c:
            lines.append(f"| {cname} | `{c['class']}` | {c['params']:,} |")
    lines += ["", "Use it:", "", "```", f"tenku generate \"a red ball bounces on grass\" --model {name} -o out.mp4", "```", ""]
    return "\n".join(lines)
