"""Uploaded images and videos, decoded safely.

Everything a client sends is hostile until proven otherwise:
* the type is sniffed from the magic bytes, never taken from the filename or the part's Content-Type;
* images are checked against `max_image_pixels` from the header, before any pixel is decoded (decompression
  bombs), and PIL is only allowed the sniffed format;
* videos are bounded per frame (pixels), in duration and in decoded frames, and frames are downscaled as they are
  decoded so that memory stays bounded;
* any decoder failure is a 400 naming the field (`param`), never a 500.
Request handlers call these in a thread pool (they block); workers call them again when they load a job's inputs.
"""

from __future__ import annotations

import base64
import binascii
import io
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from tenku.server.errors import ApiError, bad_request, too_large
from tenku.video import Video

# sniffed kind -> (file suffix, PIL format or PyAV demuxer)
IMAGE_KINDS = {"png": (".png", "PNG"), "jpeg": (".jpg", "JPEG"), "webp": (".webp", "WEBP")}
VIDEO_KINDS = {"mp4": (".mp4", "mov"), "matroska": (".mkv", "matroska"), "avi": (".avi", "avi")}


def sniff(head: bytes) -> str | None:
    """The file kind from its first bytes: png | jpeg | webp | mp4 | matroska | avi, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[4:8] == b"ftyp":  # ISO base media: mp4, mov, m4v, 3gp
        return "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: mkv, webm
        return "matroska"
    return None


def _describe(head: bytes) -> str:
    return "an empty file" if not head else "not a PNG, JPEG or WebP image, nor an MP4, WebM/MKV or AVI video"


# -- images ------------------------------------------------------------------------------------------------------


def decode_image(data: bytes, *, max_pixels: int, param: str) -> np.ndarray:
    """PNG/JPEG/WebP bytes -> uint8 (H, W, 3); a 400 naming `param` for anything else."""
    from PIL import Image, UnidentifiedImageError

    kind = sniff(data[:16])
    if kind not in IMAGE_KINDS:
        what = "a video" if kind in VIDEO_KINDS else _describe(data[:16])
        raise bad_request(f"'{param}' must be a PNG, JPEG or WebP image; the uploaded bytes are {what}.", param)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[IMAGE_KINDS[kind][1]]) as im:
                w, h = im.size  # from the header: nothing decoded yet
                if w * h > max_pixels:
                    raise bad_request(
                        f"'{param}' is {w}x{h} = {w * h} pixels; this server accepts images up to {max_pixels} pixels.",
                        param,
                        code="image_too_large",
                    )
                im.load()
                rgb = np.asarray(im.convert("RGB"))
    except ApiError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:  # PIL's own check, at open
        raise bad_request(
            f"'{param}' declares more pixels than this server accepts ({max_pixels}): {e}", param, code="image_too_large"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as e:
        raise bad_request(f"'{param}' is not a readable {kind.upper()} image ({type(e).__name__}: {e}).", param) from None
    if rgb.ndim != 3 or min(rgb.shape[:2]) < 1:
        raise bad_request(f"'{param}' decodes to an empty image.", param)
    return rgb


def decode_data_url(url: str, *, max_bytes: int, param: str) -> bytes:
    """`data:image/...;base64,...` -> bytes. Plain URLs are refused: this server does not fetch from the network."""
    if url.startswith(("http://", "https://")):
        raise bad_request(
            f"'{param}': this server does not download images from URLs; upload the image as the "
            "'input_reference' file or send it as a base64 data URL (data:image/png;base64,...).",
            param,
        )
    if not url.startswith("data:") or ";base64," not in url[:100]:
        raise bad_request(f"'{param}' must be a base64 data URL (data:image/png;base64,...).", param)
    payload = url.split(",", 1)[1]
    if len(payload) * 3 // 4 > max_bytes:
        raise too_large(f"'{param}' is larger than this server's upload limit of {max_bytes} bytes.", param)
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"'{param}' is not valid base64.", param) from None


# -- videos ------------------------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class VideoLimits:
    max_pixels: int  # per frame
    max_seconds: float
    max_frames: int  # decoded frames
    long_side: int  # frames are downscaled to this long side while decoding


@dataclass(kw_only=True)
class VideoInfo:
    width: int  # after downscaling to `long_side` and rounding to even: the size frames are delivered at
    height: int
    seconds: float
    fps: float


def probe_video(path: str | os.PathLike, *, limits: VideoLimits, param: str) -> VideoInfo:
    """Check an uploaded video end to end (every frame decoded, none kept) and report its size and length."""
    info: VideoInfo | None = None
    for info, _ in _decode(path, limits=limits, param=param):
        pass
    assert info is not None
    return info


def frame_at(path: str | os.PathLike, seconds: float, *, limits: VideoLimits, param: str) -> np.ndarray:
    """The first frame at or after `seconds` (the last frame if the video is shorter): uint8 (H, W, 3), decoding
    no further than needed and keeping one frame."""
    frames = _decode(path, limits=limits, param=param)
    try:
        chosen = None
        for info, frame in frames:
            chosen = (info, frame)
            if frame.time is not None and float(frame.time) >= seconds:
                break
        if chosen is None:
            raise bad_request(f"'{param}' holds no decodable video frames.", param)
        return _rgb(chosen[1], chosen[0])
    finally:
        frames.close()  # closes the container when we stopped early


def decode_video(path: str | os.PathLike, *, limits: VideoLimits, param: str, fps: float | None = None) -> Video:
    """A video file -> `Video` of uint8 (F, H, W, 3) frames of even size, resampled to `fps` when given
    (each output tick shows the latest source frame at or before it, so speed is kept both ways)."""
    frames: list[np.ndarray] = []
    held, held_t, held_arr, t0 = None, 0.0, None, None
    next_t = 0.0
    info: VideoInfo | None = None
    for info, frame in _decode(path, limits=limits, param=param):
        if fps is None:
            frames.append(_rgb(frame, info))
            continue
        t = float(frame.time) if frame.time is not None else next_t
        t0 = t if t0 is None else t0  # a stream may start at a non-zero timestamp
        t -= t0
        while held is not None and next_t < t - 1e-6:
            held_arr = held_arr if held_arr is not None else _rgb(held, info)
            frames.append(held_arr)
            next_t += 1.0 / fps
        held, held_t, held_arr = frame, t, None
    if info is None:
        raise bad_request(f"'{param}' holds no decodable video frames.", param)
    if fps is not None and held is not None:
        end = held_t + 1.0 / info.fps
        held_arr = _rgb(held, info)
        while next_t < end - 1e-6:
            frames.append(held_arr)
            next_t += 1.0 / fps
    return Video(frames=np.stack(frames), fps=float(fps or info.fps))


def _rgb(frame, info: VideoInfo) -> np.ndarray:
    if (frame.width, frame.height) != (info.width, info.height):
        frame = frame.reformat(width=info.width, height=info.height)
    return frame.to_ndarray(format="rgb24")


def _decode(path: str | os.PathLike, *, limits: VideoLimits, param: str):
    """Yield (info, av.VideoFrame) for every frame, enforcing the limits; bounds are checked from the container
    header first, then again frame by frame (headers can lie). `info.seconds` grows as frames arrive."""
    import av

    path = Path(path)
    with open(path, "rb") as f:
        head = f.read(16)
    kind = sniff(head)
    if kind not in VIDEO_KINDS:
        what = "an image" if kind in IMAGE_KINDS else _describe(head)
        raise bad_request(f"'{param}' must be an MP4, WebM/MKV or AVI video; the uploaded bytes are {what}.", param)
    decoded = 0
    try:
        with av.open(str(path), format=VIDEO_KINDS[kind][1]) as container:
            if not container.streams.video:
                raise bad_request(f"'{param}' has no video stream.", param)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            w, h = stream.codec_context.width, stream.codec_context.height
            _check_pixels(w, h, limits, param)
            duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
            if duration is None and container.duration:
                duration = container.duration / 1_000_000
            if duration is not None and duration > limits.max_seconds + 0.5:
                raise _too_long(duration, limits, param)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            src_fps = float(rate) if rate and float(rate) > 0 else 24.0
            tw, th = _target_size(w, h, limits.long_side)
            info = VideoInfo(width=tw, height=th, seconds=0.0, fps=src_fps)
            for frame in container.decode(stream):
                decoded += 1
                if decoded > limits.max_frames:
                    raise bad_request(
                        f"'{param}' has more than {limits.max_frames} frames; this server accepts up to "
                        f"{limits.max_frames} frames and {limits.max_seconds:g} seconds.",
                        param,
                        code="video_too_long",
                    )
                _check_pixels(frame.width, frame.height, limits, param)
                t = float(frame.time) if frame.time is not None else (decoded - 1) / src_fps
                if t > limits.max_seconds + 0.5:
                    raise _too_long(t, limits, param)
                info.seconds = max(info.seconds, t + 1.0 / src_fps)
                yield info, frame
    except ApiError:
        raise
    except Exception as e:  # PyAV raises many kinds (InvalidDataError, OSError, ...): all mean an unreadable upload
        raise bad_request(f"'{param}' is not a readable video ({type(e).__name__}: {e}).", param) from None
    if decoded == 0:
        raise bad_request(f"'{param}' holds no decodable video frames.", param)


def _check_pixels(w: int, h: int, limits: VideoLimits, param: str) -> None:
    if w <= 0 or h <= 0:
        raise bad_request(f"'{param}' has no valid frame size.", param)
    if w * h > limits.max_pixels:
        raise bad_request(
            f"'{param}' frames are {w}x{h}; this server accepts videos up to {limits.max_pixels} pixels per frame.",
            param,
            code="video_too_large",
        )


def _too_long(seconds: float, limits: VideoLimits, param: str) -> ApiError:
    return bad_request(
        f"'{param}' is {seconds:.1f} s long; this server accepts videos up to {limits.max_seconds:g} s.",
        param,
        code="video_too_long",
    )


def _target_size(w: int, h: int, long_side: int) -> tuple[int, int]:
    """Downscale to `long_side` keeping the aspect ratio, then make both sides even (H.264 yuv420p)."""
    scale = min(1.0, long_side / max(w, h))
    tw, th = max(2, round(w * scale)), max(2, round(h * scale))
    return tw - tw % 2, th - th % 2


# -- saving ------------------------------------------------------------------------------------------------------


def save_stream(src: BinaryIO, dest: Path) -> Path:
    """Copy an upload to `dest` through a temporary name in the same folder, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


def save_bytes(data: bytes, dest: Path) -> Path:
    return save_stream(io.BytesIO(data), dest)


def link_or_copy(src: Path, dest: Path) -> Path:
    """Give a job its own name for an input that lives elsewhere (a source video that may be deleted later)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        with open(src, "rb") as f:
            save_stream(f, dest)
    return dest
