"""The creative-mode commands (tenku/cli.py, "creative modes"), in this process, on the debug checkpoint of
conftest's `modes_checkpoint`."""

import json
import sys

import numpy as np
import pytest

from tenku.cli import main
from tenku.video import read_image, read_video, write_image, write_video

S = 16  # the debug checkpoint's frame size

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny tensors, busy machines

def run(monkeypatch, *args) -> int:
    monkeypatch.setattr(sys, "argv", ["tenku", *args])
    try:
        main()
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    frames = np.zeros((17, S, S, 3), np.uint8)
    for i in range(17):
        frames[i, :, :] = (30, 120, 40)
        frames[i, 4:10, i : i + 6] = (220, 40, 40)
    write_video(root / "clip.mp4", frames, 8, comment="tenku: 'a red square moves right', seed 0, 1 steps, guidance 4")
    write_image(root / "still.png", frames[0])
    (root / "notes.txt").write_text("not a video")
    (root / "broken.png").write_bytes((root / "still.png").read_bytes()[:60])
    (root / "board.json").write_text(json.dumps({"seconds": 3, "cards": [
        {"time": 0, "prompt": "a red square"}, {"time": 1.5, "prompt": "a blue square", "image": "still.png"}]}))
    (root / "late.json").write_text(json.dumps({"seconds": 2, "cards": [{"time": 0, "prompt": "a"}, {"time": 2.5, "prompt": "b"}]}))
    (root / "order.json").write_text(json.dumps({"cards": [{"time": 1, "prompt": "a"}, {"time": 0.5, "prompt": "b"}]}))
    return root


def test_every_mode_writes_its_output(modes_checkpoint, files, tmp_path, monkeypatch, capsys):
    common = ["--model", str(modes_checkpoint), "--steps", "1"]
    cases = [
        (["image", "a red square", "-o", str(tmp_path / "x.png")], "x.png", (S, S, 3)),
        (["animate", str(files / "still.png"), "--prompt", "a red square moves", "-o", str(tmp_path / "a.mp4")], "a.mp4", (17, S, S, 3)),
        (["extend", str(files / "clip.mp4"), "--seconds", "1", "-o", str(tmp_path / "e.mp4")], "e.mp4", (25, S, S, 3)),
        (["extend", str(files / "clip.mp4"), "--seconds", "1", "--backward", "-o", str(tmp_path / "b.mp4")], "b.mp4", (25, S, S, 3)),
        (["loop", str(files / "clip.mp4"), "-o", str(tmp_path / "l.mp4")], "l.mp4", (21, S, S, 3)),
        (["generate", "a red square", "--loop", "--seconds", "3", "-o", str(tmp_path / "g.mp4")], "g.mp4", (25, S, S, 3)),
        (["connect", str(files / "clip.mp4"), str(files / "still.png"), "--seconds", "1", "-o", str(tmp_path / "c.mp4")], "c.mp4", (8, S, S, 3)),
        (["remix", str(files / "clip.mp4"), "--prompt", "a blue square", "--strength", "0.5", "-o", str(tmp_path / "r.mp4")], "r.mp4", (17, S, S, 3)),
        (["storyboard", str(files / "board.json"), "-o", str(tmp_path / "s.mp4")], "s.mp4", (24, S, S, 3)),
    ]
    for args, name, shape in cases:
        assert run(monkeypatch, *args, *common) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert f"wrote {tmp_path / name}" in out
        got = read_image(tmp_path / name).shape if name.endswith(".png") else read_video(tmp_path / name)[0].shape
        assert got == shape, (name, got)
        if args[0] == "extend":
            assert "prompt from the video's metadata: 'a red square moves right'" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(name for _, name, _ in cases)  # nothing half-written


def test_generate_n_writes_numbered_files(modes_checkpoint, tmp_path, monkeypatch, capsys):
    args = ["generate", "a red square", "--n", "2", "--seed", "3", "-o", str(tmp_path / "v.png")]
    assert run(monkeypatch, *args, "--model", str(modes_checkpoint), "--steps", "1") == 0
    out = capsys.readouterr().out
    assert "v_1.png" in out and "seed 3" in out and "v_2.png" in out and "seed 4" in out
    assert not np.array_equal(read_image(tmp_path / "v_1.png"), read_image(tmp_path / "v_2.png"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["extend", "{f}/notes.txt", "--seconds", "1"], "notes.txt: not a readable video"),
        (["extend", "{f}/missing.mp4", "--seconds", "1"], "missing.mp4: no such file"),
        (["extend", "{f}/clip.mp4"], "tenku extend needs --seconds S"),
        (["extend", "{f}/clip.mp4", "--seconds", "0"], "seconds must be positive, got 0"),
        (["extend", "{f}/clip.mp4", "--seconds", "500"], "more than 1025 frames"),
        (["animate", "{f}/broken.png", "--prompt", "x"], "broken.png: not a readable image"),
        (["animate", "{f}/notes.txt", "--prompt", "x"], "notes.txt: not a readable image"),
        (["animate", "{f}/still.png", "--prompt", "x", "-o", "{t}/out.avi"], "the output must end in .mp4"),
        (["remix", "{f}/clip.mp4", "--prompt", "x", "--strength", "1.5"], "--strength must be between 0 (keep the input) and 1 (ignore it), got 1.5"),
        (["connect", "{f}/clip.mp4", "{f}/still.png", "--seconds", "0.1"], "a transition needs at least 4 frames"),
        (["connect", "{f}/clip.mp4", "{f}/still.png"], "tenku connect needs --seconds S"),
        (["storyboard", "{f}/late.json"], "card 2 ('b') at 2.5 s is past the end of the 2 s video"),
        (["storyboard", "{f}/order.json"], "card 2 ('b') at 0.5 s comes before or with card 1 at 1 s"),
        (["storyboard", "{f}/none.json"], "none.json: no such storyboard file"),
        (["image", "x", "--seconds", "2"], "tenku image makes one frame"),
        (["generate", "x", "--n", "0"], "--n must be at least 1, got 0"),
        (["generate", "x", "--n", "2", "--loop"], "--n and --loop do not combine"),
    ],
)
def test_bad_input_is_one_line(modes_checkpoint, files, tmp_path, monkeypatch, capsys, args, message):
    args = [a.format(f=files, t=tmp_path) for a in args]
    code = run(monkeypatch, *args, "--model", str(modes_checkpoint), "--steps", "1", *([] if "-o" in args else ["-o", str(tmp_path / "o.mp4")]))
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("error:") and message in err and len(err.splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []  # nothing written
