"""Hostile uploads: every bad file is a 400 (or a 413 when too big) in the error envelope, never a 500."""

from __future__ import annotations

import struct
import zlib

import httpx
import openai
import pytest
from server_helpers import KEY_A, make_mp4, make_png

SMALL = "128x72"
AUTH = {"Authorization": f"Bearer {KEY_A}"}


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` (a decompression bomb's calling card)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _bad_reference(client, data: bytes, name: str = "ref.png", mime: str = "image/png") -> openai.APIStatusError:
    with pytest.raises(openai.APIStatusError) as e:
        client.videos.create(prompt="x", size=SMALL, input_reference=(name, data, mime))
    assert e.value.request_id.startswith("req_")
    return e.value


def test_non_image_bytes_named_png_are_a_400(client):
    e = _bad_reference(client, b"this is plain text, not a picture at all")
    assert e.status_code == 400 and e.param == "input_reference" and "not a PNG" in e.message


def test_a_video_sent_as_the_image_reference_is_named_as_such(client, tmp_path):
    e = _bad_reference(client, make_mp4(tmp_path / "v.mp4").read_bytes())
    assert e.status_code == 400 and "a video" in e.message


def test_corrupt_and_truncated_images_are_a_400(client):
    png = make_png(200, 100)
    for data in (png[: len(png) // 2], png[:40] + b"\x00" * 200, b"\xff\xd8\xff\xe0" + b"garbage" * 20):
        e = _bad_reference(client, data)
        assert e.status_code == 400 and e.param == "input_reference", e.message


def test_decompression_bombs_are_refused_before_decoding(client):
    e = _bad_reference(client, _png_claiming(40_000, 40_000))  # 1.6 gigapixels from a few hundred bytes
    assert e.status_code == 400 and e.code == "image_too_large"
    e = _bad_reference(client, _png_claiming(9_000, 9_000))  # under PIL's own bomb limit, over ours
    assert e.status_code == 400 and e.code == "image_too_large" and "9000x9000" in e.message
    e = _bad_reference(client, make_png(2100, 2100))  # over this server's 2000x2000 limit
    assert e.status_code == 400 and e.code == "image_too_large"


def test_oversize_bodies_are_a_413_with_or_without_content_length(server, client):
    big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 << 20)  # the shared server takes 2 MiB
    e = _bad_reference(client, big)
    assert e.status_code == 413 and e.code == "payload_too_large"

    def chunks():  # chunked transfer: no Content-Length to refuse up front
        yield (b'--xyz\r\nContent-Disposition: form-data; name="input_reference"; filename="a.png"\r\n'
               b"Content-Type: image/png\r\n\r\n")
        for _ in range(48):
            yield b"\x00" * (64 << 10)
        yield b"\r\n--xyz--\r\n"

    r = httpx.post(f"{server.base_url}/videos", content=chunks(),
                   headers={**AUTH, "content-type": "multipart/form-data; boundary=xyz"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert r.headers["x-request-id"].startswith("req_")


def test_corrupt_or_wrong_videos_are_a_400(client, tmp_path):
    bad = {
        "ftyp then noise": b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40,
        "an image": make_png(),
        "text": b"definitely not a video",
        "empty": b"",
    }
    for what, data in bad.items():
        with pytest.raises(openai.BadRequestError) as e:
            client.videos.extend(prompt="x", seconds="4", video=("clip.mp4", data, "video/mp4"))
        assert e.value.param == "video", what
    good = make_mp4(tmp_path / "g.mp4").read_bytes()
    with pytest.raises(openai.BadRequestError) as e:  # truncated inside the media data
        client.videos.edit(prompt="x", video=("clip.mp4", good[: len(good) // 3], "video/mp4"))
    assert e.value.param == "video"


def test_video_limits_duration_frames_and_pixels(make_server, tmp_path):
    srv = make_server(max_input_seconds=1.0, max_input_pixels=100 * 100, max_input_frames=10)
    c = srv.client()
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.extend(prompt="x", seconds="4", video=make_mp4(tmp_path / "long.mp4", frames=24, fps=8))  # 3 s
    assert e.value.code == "video_too_long"
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.edit(prompt="x", video=make_mp4(tmp_path / "big.mp4", frames=4, w=128, h=96))
    assert e.value.code == "video_too_large"
    with pytest.raises(openai.BadRequestError) as e:  # 0.5 s, but 12 frames to decode
        c.videos.edit(prompt="x", video=make_mp4(tmp_path / "many.mp4", frames=12, fps=24))
    assert e.value.code == "video_too_long" and "10 frames" in e.value.message


def test_malformed_requests_are_envelopes(server):
    r = httpx.post(f"{server.base_url}/videos", headers={**AUTH, "content-type": "application/json"}, content=b"{nope")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = httpx.post(f"{server.base_url}/videos", headers={**AUTH, "content-type": "text/plain"}, content=b"prompt=x")
    assert r.status_code == 400 and r.json()["error"]["code"] == "unsupported_content_type"
    r = httpx.post(f"{server.base_url}/videos", headers=AUTH, json={"prompt": "x", "seconds": 4, "size": SMALL},
                   params={"limit": 1})
    assert r.status_code == 200  # query strings on a POST are ignored, not an error
    r = httpx.post(f"{server.base_url}/videos", headers=AUTH, files={"prompt": ("p.txt", b"x", "text/plain")})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"
    r = httpx.get(f"{server.base_url}/nothing/here", headers=AUTH)
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url" and "x-request-id" in r.headers
    r = httpx.put(f"{server.base_url}/videos", headers=AUTH)
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
