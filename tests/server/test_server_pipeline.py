"""The server on the real `tenku.pipeline.Pipeline` (a debug checkpoint trained for a few steps): the adapter
calls the pipeline as it is, the delivered file has the requested size and length in every mode the pipeline
has, and modes it does not have yet are a clear 400. (The contract itself is tested mode by mode against a numpy
stand-in in test_server_modes.py.)"""

from __future__ import annotations

import io

import av
import openai
import pytest
from openai.types import Video
from server_helpers import make_png

pytest.importorskip("torch")


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from tenku.config import TrainConfig
    from tenku.train import train

    root = tmp_path_factory.mktemp("ckpt")
    common = dict(data="synthetic", clips=4, steps=3, batch_size=2, warmup_steps=1, log_every=10, ckpt_every=10)
    train(TrainConfig(model="vae", out=str(root / "vae"), buckets=("5x32x32",), **common))
    return train(TrainConfig(model="dit", out=str(root / "dit"), vae=str(root / "vae"), buckets=("9x32x32",),
                             **common))


def _info(data: bytes) -> tuple[int, int, int, float]:
    with av.open(io.BytesIO(data)) as f:
        s = f.streams.video[0]
        frames = sum(1 for _ in f.decode(s))
        return s.codec_context.width, s.codec_context.height, frames, float(s.average_rate)


@pytest.mark.slow
def test_create_and_every_mode_on_the_real_pipeline(make_server, checkpoint):
    srv = make_server(generator="pipeline", model=checkpoint, default_steps=2)
    c = srv.client()
    assert [m.id for m in c.models.list()] == ["dit"]
    video = c.videos.create_and_poll(prompt="a red ball bounces", model="sora-2", size="1280x720", seconds="1")
    assert video.status == "completed", video.error
    w, h, frames, fps = _info(c.videos.download_content(video.id).content)
    assert (w, h) == (1280, 720)
    assert frames == round(1 * fps)  # the model's 4k+1 frames trimmed to 1 s

    # every other mode: run it where the pipeline has it, or expect a clear 400 where it has not (yet)
    small = "128x72"
    src = c.videos.create_and_poll(prompt="a blue cube", size=small, seconds="1")
    connect = {"prompt": "from here to there", "size": small, "seconds": 1, "start": {"id": src.id},
               "end": {"id": src.id}}
    modes = {  # mode -> (start the job, delivered seconds)
        "image-to-video": (lambda: c.videos.create(prompt="from a picture", size=small, seconds="1",
                                                   input_reference=("a.png", make_png(), "image/png")), 1),
        "remix": (lambda: c.videos.remix(src.id, prompt="a green cube"), 1),
        "edit": (lambda: c.videos.edit(prompt="at night", video=openai.omit, extra_body={"video": {"id": src.id}}), 1),
        "extension": (lambda: c.videos.extend(prompt="it rolls on", seconds="1", video=openai.omit,
                                              extra_body={"video": {"id": src.id}}), 2),
        "loop": (lambda: c.post("/videos/loops", cast_to=Video, body={"prompt": "a ball circles", "size": small,
                                                                     "seconds": 1}), 1),
        "connection": (lambda: c.post("/videos/connections", cast_to=Video, body=connect), 1),
        "storyboard": (lambda: c.post("/videos/storyboards", cast_to=Video, body={
            "size": small, "shots": [{"prompt": "a red ball", "seconds": 1}, {"prompt": "a blue cube", "seconds": 1}]}),
            2),
    }
    for mode, (start, seconds) in modes.items():
        if srv.services.generator.unavailable(mode) is not None:
            with pytest.raises(openai.BadRequestError) as e:
                start()
            assert e.value.code == "mode_unavailable" and "not available in this model yet" in e.value.message
            continue
        job = c.videos.poll(start().id, poll_interval_ms=50)
        assert job.status == "completed", (mode, job.error)
        w, h, frames, fps = _info(c.videos.download_content(job.id).content)
        assert (w, h, frames) == (128, 72, round(seconds * fps)), mode
