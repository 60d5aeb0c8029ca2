"""tenku's extras beyond OpenAI's paths (loops, connections, storyboards, cancel, server-sent events), the
`openai-poll-after-ms` header, and JSON bodies where the SDK would send multipart."""

from __future__ import annotations

import base64
import io
import json
import time

import av
import httpx
import openai
import pytest
from openai.types import Video
from server_helpers import KEY_A, KEY_B, make_png

SMALL = "128x72"
AUTH = {"Authorization": f"Bearer {KEY_A}"}


def _frames(data: bytes):
    import numpy as np

    with av.open(io.BytesIO(data)) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def _wait_status(client, video_id: str, status: str, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        v = client.videos.retrieve(video_id)
        if v.status == status:
            return v
        time.sleep(0.02)
    raise AssertionError(f"{video_id} never became {status}")


def test_loop_ends_where_it_starts_through_the_sdks_generic_post(client):
    video = client.post("/videos/loops", cast_to=Video, body={"prompt": "a disc circles", "size": SMALL, "seconds": 4})
    assert video.status == "queued" and video.seconds == "4"
    video = client.videos.poll(video.id)
    assert video.status == "completed"
    frames = _frames(client.videos.download_content(video.id).content).astype(int)
    step = abs(frames[1] - frames[0]).mean()  # one frame of motion
    wrap = abs(frames[-1] - frames[0]).mean()  # the seam: last frame to first
    assert wrap <= 2 * step + 1


def test_connection_bridges_an_uploaded_image_to_a_video_by_id(server, client):
    target = client.videos.create_and_poll(prompt="the destination", size=SMALL)
    red = make_png(128, 72, (255, 0, 0))
    r = httpx.post(f"{server.base_url}/videos/connections", headers=AUTH,
                   data={"prompt": "bridge", "size": SMALL, "seconds": "4", "end[id]": target.id},
                   files={"start": ("start.png", red, "image/png")})
    assert r.status_code == 200, r.text
    video = client.videos.poll(r.json()["id"])
    assert video.status == "completed" and video.size == SMALL
    first = _frames(client.videos.download_content(video.id).content)[0].astype(int)
    assert first[..., 0].mean() > 200 and first[..., 1].mean() < 60  # starts on the red start image

    r = httpx.post(f"{server.base_url}/videos/connections", headers=AUTH, data={"prompt": "half a bridge"},
                   files={"start": ("start.png", red, "image/png")})
    assert r.status_code == 400 and r.json()["error"]["param"] == "end"


def test_storyboard_plays_its_shots_in_order(server, client):
    body = {"size": SMALL, "shots": [{"prompt": "a red ball", "seconds": 4}, {"prompt": "a blue cube", "seconds": 8}]}
    r = httpx.post(f"{server.base_url}/videos/storyboards", headers=AUTH, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["seconds"] == "12" and r.json()["prompt"] == "a red ball | a blue cube"
    video = client.videos.poll(r.json()["id"])
    frames = _frames(client.videos.download_content(video.id).content)
    assert frames.shape[0] == 12 * 8

    too_long = {"shots": [{"prompt": "x", "seconds": 40}, {"prompt": "y", "seconds": 40}]}
    r = httpx.post(f"{server.base_url}/videos/storyboards", headers=AUTH, json=too_long)
    assert r.status_code == 400 and r.json()["error"]["param"] == "shots"
    r = httpx.post(f"{server.base_url}/videos/storyboards", headers=AUTH, json={"shots": [{"prompt": "x", "sec": 4}]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "unknown_parameter"


def test_cancel_stops_a_running_and_a_queued_video(server, client):
    # two worker threads: two slow videos run, the third waits in the queue
    running = [client.videos.create(prompt=f"slow {i} pace=0.5", size=SMALL) for i in range(2)]
    queued = client.videos.create(prompt="waiting pace=0.5", size=SMALL)
    for v in running:
        _wait_status(client, v.id, "in_progress")
    assert client.videos.retrieve(queued.id).status == "queued"

    for v in (*running, queued):
        cancelled = client.post(f"/videos/{v.id}/cancel", cast_to=Video)
        assert cancelled.status == "cancelled" and cancelled.error.code == "cancelled"
    t0 = time.monotonic()
    final = client.videos.poll(running[0].id)  # the SDK's poll returns on a status it does not know
    assert final.status == "cancelled" and time.monotonic() - t0 < 2
    time.sleep(0.8)  # a step later, the workers have let go
    for v in (*running, queued):
        assert client.videos.retrieve(v.id).status == "cancelled"
        with pytest.raises(openai.BadRequestError):
            client.videos.download_content(v.id)
    with pytest.raises(openai.BadRequestError) as e:
        client.post(f"/videos/{queued.id}/cancel", cast_to=Video)
    assert e.value.code == "invalid_state"
    assert client.videos.delete(queued.id).deleted
    with pytest.raises(openai.NotFoundError):
        server.client(KEY_B).post(f"/videos/{running[0].id}/cancel", cast_to=Video)


def test_events_stream_progress_until_completed(server, client):
    video = client.videos.create(prompt="watched pace=0.15", size=SMALL)
    events = []
    with httpx.stream("GET", f"{server.base_url}/videos/{video.id}/events", headers=AUTH, timeout=30) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[len("data: "):])))
    names = [e for e, _ in events]
    progress = [d["progress"] for _, d in events]
    assert names[-1] == "video.completed" and events[-1][1]["status"] == "completed"
    assert all(n in ("video.queued", "video.in_progress") for n in names[:-1])
    assert progress == sorted(progress) and progress[-1] == 100
    assert any(0 < p < 100 for p in progress), progress  # progress moves during sampling
    r = httpx.get(f"{server.base_url}/videos/{video.id}/events", headers={"Authorization": f"Bearer {KEY_B}"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_poll_after_header_only_while_active(client):
    video = client.videos.create(prompt="polled pace=0.1", size=SMALL)
    raw = client.videos.with_raw_response.retrieve(video.id)
    assert raw.headers["openai-poll-after-ms"] == "20" and raw.headers["x-request-id"].startswith("req_")
    client.videos.poll(video.id)
    assert "openai-poll-after-ms" not in client.videos.with_raw_response.retrieve(video.id).headers


def test_json_create_with_a_data_url_reference(server, client):
    data_url = "data:image/png;base64," + base64.b64encode(make_png(128, 72, (0, 0, 255))).decode()
    body = {"prompt": "from json", "seconds": 4, "size": SMALL, "input_reference": {"image_url": data_url}}
    r = httpx.post(f"{server.base_url}/videos", headers=AUTH, json=body)
    assert r.status_code == 200, r.text
    video = client.videos.poll(r.json()["id"])
    first = _frames(client.videos.download_content(video.id).content)[0].astype(int)
    assert first[..., 2].mean() > 200 and first[..., 0].mean() < 60

    # the same reference the SDK way: extra_body is flattened into the form field input_reference[image_url]
    video = client.videos.create(prompt="from the sdk", size=SMALL, extra_body={"input_reference": {"image_url": data_url}})
    assert client.videos.poll(video.id).status == "completed"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="x", extra_body={"input_reference": {"file_id": "file_123"}})
    assert e.value.param == "input_reference[file_id]" and "Files API" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="x", extra_body={"input_reference": {"image_url": "https://example.com/a.png"}})
    assert "does not download" in e.value.message


def test_edit_by_video_id_in_json_and_generation_knobs(server, client, tmp_path):
    source = client.videos.create_and_poll(prompt="source", size=SMALL, extra_body={"seed": 7, "steps": 3})
    r = httpx.post(f"{server.base_url}/videos/edits", headers=AUTH,
                   json={"prompt": "edited", "video": {"id": source.id}, "seed": 7})
    assert r.status_code == 200, r.text
    assert r.json()["size"] == SMALL and r.json()["seconds"] == "4"
    assert client.videos.poll(r.json()["id"]).status == "completed"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="x", extra_body={"steps": 0})
    assert e.value.param == "steps"


def test_a_failed_generation_reports_its_error(client):
    video = client.videos.create_and_poll(prompt="please explode", size=SMALL)
    assert video.status == "failed" and video.progress < 100
    assert video.error.code == "generation_failed" and "explode" in video.error.message
    with pytest.raises(openai.BadRequestError):
        client.videos.download_content(video.id)
    assert client.videos.delete(video.id).deleted
