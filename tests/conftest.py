import os

import pytest

# Tests never reach the network: the text encoder and everything else load from installed packages.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _seed():
    import random

    import numpy as np

    random.seed(0)
    np.random.seed(0)


# ---------------------------------------------------------------------------------------------------------------
# creative modes (tests/test_modes.py, tests/test_cli_modes.py): one debug checkpoint shared by both files
# ---------------------------------------------------------------------------------------------------------------

import contextlib  # noqa: E402  (this block is appended; the imports above belong to the block above)


@pytest.fixture(scope="session")
def modes_checkpoint(tmp_path_factory):
    """A debug pipeline trained for a few steps on synthetic clips, with a 17-frame (5 latent frames) window at 16x16, so
    that a window has room for context, new frames and a held end."""
    from tenku.config import TrainConfig
    from tenku.train import train

    root = tmp_path_factory.mktemp("modes-ckpt")
    common = dict(data="synthetic", clips=2, steps=2, batch_size=2, warmup_steps=1, log_every=10, ckpt_every=10)
    with one_thread():
        train(TrainConfig(model="vae", out=str(root / "vae"), buckets=("5x16x16",), **common))
        return train(TrainConfig(model="dit", out=str(root / "dit"), vae=str(root / "vae"), buckets=("17x16x16",), **common))


@contextlib.contextmanager
def one_thread():
    """Run torch on one thread: debug-sized tensors are too small to split, and on a busy 2-core machine the
    spinning intra-op threads made the modes tests 2-3x slower (22 s instead of 60 s)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def one_torch_thread():
    """Each test of the modes files on one torch thread (see `one_thread`)."""
    with one_thread():
        yield


@pytest.fixture(scope="session")
def modes_pipe(modes_checkpoint):
    from tenku.pipeline import Pipeline

    return Pipeline.from_pretrained(modes_checkpoint)
