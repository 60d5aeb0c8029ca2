"""The creative modes wired to the pipeline contract, through the real SDK: each endpoint calls the right
`Pipeline` method with the right inputs (a numpy stand-in records the calls), an extension is delivered as the
pipeline's stitched whole (never stitched twice), and a character's reference frame conditions later prompts
that name it."""

from __future__ import annotations

import io
import time

import av
import httpx
import numpy as np
import openai
import pytest
from openai.types import Video
from server_helpers import KEY_A, KEY_B, make_mp4, make_png, recording_generator

from tenku.server.fake import FakePipeline
from tenku.server.generator import PipelineGenerator
from tenku.server.intake import named_characters
from tenku.server.jobs import Character

SMALL = "128x72"  # works at 64x48 (64 px long side, multiples of 16), inputs letterboxed into it
GEN_KEYS = {"seconds", "width", "height", "fps", "seed", "callback"}


def _frames(data: bytes) -> np.ndarray:
    with av.open(io.BytesIO(data)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


@pytest.fixture
def recorded(make_server):
    gen, pipe = recording_generator()
    srv = make_server(gen=gen, api_keys=[KEY_A, KEY_B])
    return srv, pipe


def test_every_endpoint_calls_its_pipeline_method(recorded, tmp_path):
    srv, pipe = recorded
    c = srv.client(KEY_A)

    t2v = c.videos.create_and_poll(prompt="a ball", size=SMALL, seconds="4", extra_body={"seed": 5, "steps": 3})
    prompt, kw = pipe.last("__call__")
    assert prompt == "a ball" and set(kw) == GEN_KEYS | {"steps"}
    assert (kw["width"], kw["height"], kw["seconds"], kw["seed"], kw["steps"], kw["fps"]) == (64, 48, 4, 5, 3, 8)

    c.videos.create_and_poll(prompt="from red", size=SMALL, input_reference=("r.png", make_png(64, 36, (255, 0, 0)),
                                                                              "image/png"))
    _, kw = pipe.last("image_to_video")
    assert kw["image"].shape == (48, 64, 3) and kw["image"][..., 0].mean() > 250  # letterboxed to the working size

    remix = c.videos.remix(t2v.id, prompt="greener", extra_body={"strength": 0.3})
    assert c.videos.poll(remix.id).status == "completed"
    _, kw = pipe.last("remix")
    assert kw["strength"] == 0.3 and kw["video"].frames.shape == (32, 48, 64, 3) and kw["seconds"] == 4

    clip = make_mp4(tmp_path / "clip.mp4", frames=16, w=96, h=64, fps=8)  # 2 s
    edit = c.videos.edit(prompt="at night", video=clip)
    assert c.videos.poll(edit.id).status == "completed"
    _, kw = pipe.last("edit")
    assert "strength" not in kw and kw["video"].frames.shape[0] == 16  # the model's default strength

    ext = c.videos.extend(prompt="onwards", seconds="4", video=clip)
    assert ext.seconds == "6"
    assert c.videos.poll(ext.id).status == "completed"
    _, kw = pipe.last("extend")
    assert kw["seconds"] == 4 and kw["video"].frames.shape[0] == 16
    # the pipeline returned source + continuation (48 frames); the worker delivered it as is, not stitched again
    assert _frames(c.videos.download_content(ext.id).content).shape[:3] == (6 * 8, 64, 96)

    loop = c.post("/videos/loops", cast_to=Video, body={"prompt": "round", "size": SMALL})
    assert c.videos.poll(loop.id).status == "completed"
    _, kw = pipe.last("loop")
    assert kw["image"] is None and set(kw) == GEN_KEYS | {"image"}

    r = httpx.post(f"{srv.base_url}/videos/connections", headers={"Authorization": f"Bearer {KEY_A}"},
                   data={"prompt": "bridge", "size": SMALL, "seconds": "4", "end[id]": t2v.id},
                   files={"start": ("s.png", make_png(128, 72, (0, 0, 255)), "image/png")})
    assert r.status_code == 200, r.text
    assert c.videos.poll(r.json()["id"]).status == "completed"
    _, kw = pipe.last("connect")
    assert kw["video"].frames.shape == (1, 48, 64, 3) and kw["end"].frames.shape == (32, 48, 64, 3)

    board = c.post("/videos/storyboards", cast_to=Video, body={
        "prompt": "in a garden", "size": SMALL, "shots": [{"prompt": "a ball", "seconds": 4},
                                                          {"prompt": "a cube", "seconds": 8}]})
    assert board.prompt == "in a garden: a ball | a cube" and board.seconds == "12"
    assert c.videos.poll(board.id).status == "completed"
    prompt, kw = pipe.last("storyboard")
    assert prompt == "in a garden" and kw["shots"] == [("a ball", 4.0), ("a cube", 8.0)]
    assert "seconds" not in kw and kw["image"] is None  # the shots carry the seconds

    for bad in (0, 1.5, "strong"):
        with pytest.raises(openai.BadRequestError) as e:
            c.videos.remix(t2v.id, prompt="x", extra_body={"strength": bad})
        assert e.value.param == "strength"
    with pytest.raises(openai.BadRequestError) as e:  # only remixes and edits take a strength
        c.videos.create(prompt="x", extra_body={"strength": 0.5})
    assert e.value.code == "unknown_parameter"


def test_a_character_conditions_later_prompts_that_name_it(recorded, tmp_path):
    srv, pipe = recorded
    a, b = srv.client(KEY_A), srv.client(KEY_B)
    green = (20, 220, 40)
    clip = make_mp4(tmp_path / "mira.mp4", frames=16, w=96, h=64, middle_color=green)  # fades in: the middle counts
    mira = a.videos.create_character(name="Mira", video=clip)

    named = a.videos.create_and_poll(prompt="@mira waves at the camera", size=SMALL)
    assert named.status == "completed"
    _, kw = pipe.last("image_to_video")
    ref = kw["image"].astype(int)
    assert abs(ref.mean(axis=(0, 1)) - green).max() < 12  # the reference frame is the clip's middle
    first = _frames(a.videos.download_content(named.id).content)[0].astype(int)
    assert abs(first.mean(axis=(0, 1)) - green).max() < 20  # the video starts on the character

    n_i2v = sum(1 for name, *_ in pipe.calls if name == "image_to_video")
    a.videos.create_and_poll(prompt="a mirage over the dunes", size=SMALL)  # "Mira" only inside a word
    b.videos.create_and_poll(prompt="Mira, but asked by another key", size=SMALL)  # not B's character
    assert sum(1 for name, *_ in pipe.calls if name == "image_to_video") == n_i2v

    a.videos.create_and_poll(prompt="Mira in red", size=SMALL,
                             input_reference=("r.png", make_png(64, 36, (255, 0, 0)), "image/png"))
    _, kw = pipe.last("image_to_video")
    assert kw["image"][..., 0].mean() > 250  # an explicit input_reference wins over the character

    shots = [{"prompt": "an empty room", "seconds": 4}, {"prompt": f"{mira.id} enters", "seconds": 4}]  # by id
    board = a.post("/videos/storyboards", cast_to=Video, body={"size": SMALL, "shots": shots})
    assert a.videos.poll(board.id).status == "completed"
    _, kw = pipe.last("storyboard")
    assert kw["image"] is not None and abs(kw["image"].astype(int).mean(axis=(0, 1)) - green).max() < 12


def test_naming_rules_for_characters():
    chars = [Character(id="char_1", owner="o", name="Ann", created_at=1, video="v"),
             Character(id="char_2", owner="o", name="Ann Lee", created_at=2, video="v"),
             Character(id="char_3", owner="o", name="Bo", created_at=3, video="v")]
    names = lambda text: [c.name for c in named_characters(chars, text)]  # noqa: E731
    assert names("bo meets ann lee") == ["Bo", "Ann Lee", "Ann"]  # earliest first; the longer name at a tie
    assert names("Bobby and Annie") == []
    assert names("a cameo by char_3") == ["Bo"]
    assert names("") == []


def test_a_mode_the_model_lacks_is_a_400_naming_the_character(make_server, tmp_path):
    class TextOnly:  # a model that has only text-to-video
        def __call__(self, prompt, **gen):
            return FakePipeline()(prompt, **gen)

    srv = make_server(gen=PipelineGenerator(TextOnly(), "tiny", fps=8, long_side=64))
    c = srv.client()
    c.videos.create_character(name="Zed", video=make_mp4(tmp_path / "z.mp4"))
    assert c.videos.create_and_poll(prompt="a zebra", size=SMALL).status == "completed"
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.create(prompt="Zed jumps", size=SMALL)
    assert e.value.code == "mode_unavailable" and e.value.param == "prompt" and "'Zed'" in e.value.message


def test_expires_at_is_honoured_and_expired_files_are_deleted(make_server):
    srv = make_server(expire_after_s=1)
    c = srv.client()
    video = c.videos.create_and_poll(prompt="short-lived", size=SMALL)
    assert video.status == "completed" and 0 <= video.expires_at - video.completed_at <= 1
    folder = srv.settings.data_dir / "videos" / video.id
    assert (folder / "video.mp4").is_file()
    while time.time() < video.expires_at:
        time.sleep(0.05)
    with pytest.raises(openai.NotFoundError) as e:  # at once, before the janitor has run
        c.videos.download_content(video.id)
    assert e.value.code == "expired"
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.remix(video.id, prompt="too late")
    assert "expired" in e.value.message
    deadline = time.monotonic() + 10
    while folder.exists():  # the janitor deletes the files
        assert time.monotonic() < deadline, "expired files were not deleted"
        time.sleep(0.1)
    assert c.videos.retrieve(video.id).expires_at == video.expires_at  # the record stays, with its expiry
