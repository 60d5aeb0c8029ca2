import itertools
import json

import numpy as np
import pytest

from tenku.errors import TenkuError
from tenku.video import read_video
from tenku.world.dataset import write_dataset, world_stream
from tenku.world.parse import parse_prompt
from tenku.world.spec import SceneSpec

ARGS = dict(width=32, height=32, seconds=1.0, fps=8, seed=7)


def lines(out):
    return [json.loads(x) for x in (out / "captions.jsonl").read_text().splitlines()]


def test_write_and_resume_after_a_kill(tmp_path):
    out = tmp_path / "ds"
    write_dataset(out, 3, **ARGS)
    first = {p.name: p.read_bytes() for p in (out / "clips").iterdir()}
    # a kill mid-way: a temporary mp4 and half a jsonl line for clip 3
    (out / "clips" / ".000003.abcd.mp4").write_bytes(b"partial")
    with open(out / "captions.jsonl", "a") as f:
        f.write('{"index": 3, "file": "clips/0000')
    write_dataset(out, 5, **ARGS)
    rows = lines(out)
    assert [r["index"] for r in rows] == [0, 1, 2, 3, 4]
    assert sorted(p.name for p in (out / "clips").iterdir()) == [f"{i:06d}.mp4" for i in range(5)]
    assert all((out / "clips" / n).read_bytes() == b for n, b in first.items())  # done clips were not redone
    frames, fps = read_video(out / rows[4]["file"])
    assert frames.shape == (8, 32, 32, 3) and fps == pytest.approx(8)
    scene = SceneSpec.from_dict(rows[4]["scene"])
    assert rows[4]["render"] == {"width": 32, "height": 32, "fps": 8, "seconds": 1.0}
    assert parse_prompt(rows[4]["captions"][0]).objects[0].shape == scene.objects[0].shape
    # re-running the same command changes nothing
    write_dataset(out, 5, **ARGS)
    assert len(lines(out)) == 5


def test_resume_matches_an_unbroken_run(tmp_path):
    write_dataset(tmp_path / "a", 2, **ARGS)
    write_dataset(tmp_path / "a", 4, **ARGS)
    write_dataset(tmp_path / "b", 4, **ARGS)
    strip = lambda rows: [{k: v for k, v in r.items()} for r in rows]  # noqa: E731
    assert strip(lines(tmp_path / "a")) == strip(lines(tmp_path / "b"))


def test_mixed_settings_are_an_error(tmp_path):
    write_dataset(tmp_path, 1, **ARGS)
    with pytest.raises(TenkuError, match="new --out folder"):
        write_dataset(tmp_path, 2, **{**ARGS, "fps": 4})


def test_stream_is_deterministic_and_varied():
    a = list(itertools.islice(world_stream(3, 32, 24, 1.0, 8), 4))
    b = list(itertools.islice(world_stream(3, 32, 24, 1.0, 8), 4))
    for x, y in zip(a, b):
        assert np.array_equal(x.frames, y.frames) and x.caption == y.caption and x.scene == y.scene
        assert x.frames.shape == (8, 24, 32, 3) and x.frames.dtype == np.uint8
        assert x.caption in x.captions + [x.long_caption]
    assert len({s.caption for s in a}) == 4
    core = next(world_stream(3, 32, 24, 1.0, 8, core=True))
    assert core.scene.camera == "static" and len(core.scene.objects) <= 2
