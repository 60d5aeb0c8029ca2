"""The world commands through the real entry point (`tenku.cli.main`), as a user runs them."""

import json
import subprocess
import sys

import pytest

from tenku.video import read_video


def tenku(*args, cwd=None):
    code = "import sys; from tenku.cli import main; sys.argv = ['tenku', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_world_writes_h264(tmp_path):
    out = tmp_path / "x.mp4"
    r = tenku("world", "a red ball bounces to the right on green grass", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert "bounces to the right" in r.stdout and "green grass" in r.stdout
    import av

    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
    frames, fps = read_video(out)
    assert frames.shape == (32, 64, 64, 3) and fps == pytest.approx(8)


def test_world_options(tmp_path):
    out = tmp_path / "sub" / "y.mp4"
    r = tenku("world", "two blue cubes slide left at night", "-o", str(out), "--size", "48x32", "--seconds", "2",
              "--fps", "5", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert read_video(out)[0].shape == (10, 32, 48, 3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["a red ball", "--size", "8x64"], "width must be between 16 and 512 pixels, got 8"),
        (["a red ball", "--size", "big"], "--size must look like WIDTHxHEIGHT"),
        (["a red ball", "--seconds", "0"], "seconds must be a positive number"),
        (["a red ball", "--seconds", "61"], "seconds must be at most 60"),
        (["a red ball", "--fps", "-1"], "fps must be a positive number"),
        (["a teal ball"], "unknown word 'teal' in the prompt; known colours are"),
        (["a red cone"], "known shapes are"),
        (["a red ball dances"], "known motions are"),
    ],
)
def test_world_errors_are_one_line(tmp_path, args, message):
    out = tmp_path / "z.mp4"
    r = tenku("world", args[0], "-o", str(out), *args[1:])
    assert r.returncode == 2
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_world_unwritable_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    r = tenku("world", "a red ball", "-o", str(blocker / "out.mp4"))
    assert r.returncode == 2 and "is not writable" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = tenku("world", "a red ball", "-o", str(tmp_path / "out.gif"))
    assert r.returncode == 2 and "must end in .mp4" in r.stderr


def test_data_world_and_resume(tmp_path):
    out = tmp_path / "ds"
    args = ["data", "world", "--n", "2", "--out", str(out), "--size", "32x32", "--seconds", "1", "--seed", "1"]
    r = tenku(*args)
    assert r.returncode == 0, r.stderr
    r = tenku(*[a if a != "2" else "3" for a in args], "--core")
    assert r.returncode == 2 and "new --out folder" in r.stderr  # core differs from the clips already there
    r = tenku(*[a if a != "2" else "3" for a in args])
    assert r.returncode == 0, r.stderr
    rows = [json.loads(x) for x in (out / "captions.jsonl").read_text().splitlines()]
    assert [row["index"] for row in rows] == [0, 1, 2]
    r = tenku("data", "world", "--n", "1", "--out", str(out), "--size", "32x8")
    assert r.returncode == 2 and "height must be between 16 and 512" in r.stderr
