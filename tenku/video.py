"""Video files in and out (PyAV), thumbnails and spritesheets.

Frames are always uint8 numpy arrays of shape (F, H, W, 3), RGB. MP4s are H.264 in yuv420p with `+faststart`, so
browsers play them and start before the whole file arrives. yuv420p needs even sizes: odd sizes are padded by
repeating the last row/column (`pad_even`), and the reader returns what the file holds.
"""

from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from tenku.errors import VideoError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")


def _check_frames(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim == 3 and frames.shape[-1] == 3:  # one image
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise VideoError(f"frames must have shape (F, H, W, 3), got {tuple(frames.shape)}")
    if frames.shape[0] == 0:
        raise VideoError("cannot write a video with no frames")
    if frames.dtype != np.uint8:
        raise VideoError(f"frames must be uint8, got {frames.dtype}; scale to 0..255 and cast first")
    return frames


def pad_even(frames: np.ndarray) -> np.ndarray:
    """Pad (F, H, W, 3) to even H and W by repeating the last row/column (yuv420p subsamples by 2)."""
    f, h, w, _ = frames.shape
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    return frames


def _atomic_target(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    return Path(tmp)


# x264's names for the instruction sets it may use, each with the /proc/cpuinfo flags it needs
_X264_ISAS = (
    ("MMX2", ("sse",)), ("SSE", ("sse",)), ("SSE2", ("sse2",)), ("SSE2Fast", ("sse2",)), ("SSE3", ("pni",)),
    ("SSSE3", ("ssse3",)), ("SSE4.1", ("sse4_1",)), ("SSE4.2", ("sse4_2",)), ("LZCNT", ("abm",)),
    ("AVX", ("avx",)), ("XOP", ("xop",)), ("FMA4", ("fma4",)), ("FMA3", ("fma",)), ("BMI1", ("bmi1",)),
    ("BMI2", ("bmi2",)), ("AVX2", ("avx2",)),
)


@functools.cache
def _x264_asm() -> str | None:
    """x264's `asm` setting that leaves out AVX-512, or None where there is nothing to leave out.

    On CPUs with AVX-512, libx264's AVX-512 code made the same frames encode to different streams
    now and then (half the time for some clips, whatever the thread count; never without it): a
    video written twice differed, and so did the judge's verdict on it. Listing the CPU's other
    instruction sets gives one stream every time. Only Linux says which sets the CPU has
    (/proc/cpuinfo); elsewhere x264 keeps its own choice.
    """
    try:
        with open("/proc/cpuinfo") as f:
            line = next((ln for ln in f if ln.startswith("flags")), "")
    except OSError:
        return None
    flags = set(line.partition(":")[2].split())
    if "avx512f" not in flags:
        return None
    return ",".join(name for name, need in _X264_ISAS if all(n in flags for n in need))


def _x264_options(crf: int) -> dict[str, str]:
    opts = {"crf": str(crf), "preset": "medium"}
    asm = _x264_asm()
    if asm:
        opts["x264-params"] = f"asm={asm}"
    return opts


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float, comment: str | None = None, crf: int = 18) -> Path:
    """Write uint8 (F, H, W, 3) frames to an H.264 MP4, atomically (temporary name, then rename).

    `comment` lands in the container's metadata (`comment` tag). Odd sizes are padded to even ones.
    """
    import av

    path = Path(path)
    frames = pad_even(_check_frames(frames))
    if not fps or fps <= 0:
        raise VideoError(f"fps must be positive, got {fps}")
    if path.suffix.lower() not in (".mp4", ".m4v", ".mov"):
        raise VideoError(f"{path}: write videos as .mp4, got suffix {path.suffix!r}")
    tmp = _atomic_target(path)
    try:
        rate = Fraction(fps).limit_denominator(1001)
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
            if comment:
                out.metadata["comment"] = comment
            stream = out.add_stream("libx264", rate=rate)
            stream.width, stream.height = frames.shape[2], frames.shape[1]
            stream.pix_fmt = "yuv420p"
            stream.options = _x264_options(crf)
            for i, frame in enumerate(frames):
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                vf.pts = i
                for packet in stream.encode(vf):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def read_video(path: str | os.PathLike, max_frames: int | None = None) -> tuple[np.ndarray, float]:
    """Read a video file to uint8 (F, H, W, 3) frames and its frame rate. Errors name the file."""
    import av

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    frames = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{path}: the file has no video stream")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.base_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except VideoError:
        raise
    except Exception as e:  # PyAV raises many kinds (InvalidDataError, OSError, ...): one clear message
        raise VideoError(f"{path}: not a readable video ({type(e).__name__}: {e})") from None
    if not frames:
        raise VideoError(f"{path}: the video stream holds no decodable frames")
    if fps <= 0:
        fps = 8.0
    return np.stack(frames), fps


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file to uint8 (H, W, 3); errors name the file."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: no such file")
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
        raise VideoError(f"{path}: not a readable image ({e})") from None


def write_image(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write uint8 (H, W, 3) to PNG/JPEG/WebP by suffix, atomically."""
    from PIL import Image

    path = Path(path)
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise VideoError(f"an image must be uint8 (H, W, 3), got {image.dtype} {tuple(image.shape)}")
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise VideoError(f"{path}: write images as one of {IMAGE_SUFFIXES}, got {path.suffix!r}")
    tmp = _atomic_target(path)
    try:
        Image.fromarray(image).save(tmp, format=Image.registered_extensions()[path.suffix.lower()])
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def thumbnail(frames: np.ndarray, max_side: int | None = None) -> np.ndarray:
    """A representative frame: the one closest to the clip's mean image among the middle half (skips fades)."""
    frames = _check_frames(frames)
    f = frames.shape[0]
    lo, hi = f // 4, max(f // 4 + 1, (3 * f) // 4)
    middle = frames[lo:hi].astype(np.float32)
    mean = middle.mean(axis=0)
    best = lo + int(np.argmin(((middle - mean) ** 2).mean(axis=(1, 2, 3))))
    image = frames[best]
    if max_side and max(image.shape[:2]) > max_side:
        image = _resize(image, max_side)
    return image


def spritesheet(frames: np.ndarray, count: int = 16, columns: int = 4, tile_width: int | None = None) -> np.ndarray:
    """A grid of `count` evenly spaced frames, `columns` wide, as one uint8 (H, W, 3) image."""
    frames = _check_frames(frames)
    count = max(1, min(count, frames.shape[0]))
    columns = max(1, min(columns, count))
    idx = np.linspace(0, frames.shape[0] - 1, count).round().astype(int)
    tiles = frames[idx]
    if tile_width and tile_width != tiles.shape[2]:
        tiles = np.stack([_resize(t, tile_width, by="width") for t in tiles])
    rows = -(-count // columns)
    _, h, w, _ = tiles.shape
    sheet = np.zeros((rows * h, columns * w, 3), dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    return sheet


def _resize(image: np.ndarray, side: int, by: str = "max") -> np.ndarray:
    from PIL import Image

    h, w = image.shape[:2]
    scale = side / (max(h, w) if by == "max" else w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(image).resize(size, Image.BICUBIC))


@dataclass
class Video:
    """A generated or loaded clip: uint8 frames (F, H, W, 3) and a frame rate."""

    frames: np.ndarray
    fps: float
    comment: str | None = None

    @property
    def seconds(self) -> float:
        return self.frames.shape[0] / self.fps

    def save(self, path: str | os.PathLike) -> Path:
        """Save as MP4, or as an image when `path` ends in .png/.jpg/.webp (first frame)."""
        path = Path(path)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return write_image(path, self.frames[0])
        return write_video(path, self.frames, self.fps, comment=self.comment)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Video":
        frames, fps = read_video(path)
        return cls(frames=frames, fps=fps)
