"""The OpenAI Videos API surface, through the real `openai` SDK against a real uvicorn server on loopback."""

from __future__ import annotations

import io

import av
import openai
import pytest
from PIL import Image

from server_helpers import KEY_B, KEY_C, make_mp4, make_png

SMALL = "128x72"  # a custom size (tenku extension) keeps encoding fast; Sora sizes are tested where it matters


def _mp4_info(data: bytes) -> tuple[int, int, int, float]:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        frames = sum(1 for _ in c.decode(s))
        return s.codec_context.width, s.codec_context.height, frames, float(s.average_rate)


def test_create_and_poll_then_download_every_variant_at_the_requested_size(client):
    video = client.videos.create_and_poll(prompt="a red ball bounces", model="sora-2", seconds="4", size="1280x720")
    assert video.status == "completed" and video.progress == 100
    assert video.object == "video" and video.id.startswith("video_")
    assert (video.model, video.seconds, video.size, video.prompt) == ("sora-2", "4", "1280x720", "a red ball bounces")
    assert video.completed_at >= video.created_at and video.error is None and video.remixed_from_video_id is None

    again = client.videos.retrieve(video.id)
    assert again.model_dump() == video.model_dump()

    mp4 = client.videos.download_content(video.id).content  # default variant: the MP4
    w, h, frames, fps = _mp4_info(mp4)
    assert (w, h) == (1280, 720)  # the model works at 64 px; the file has the size the client asked for
    assert frames == 4 * fps
    assert client.videos.download_content(video.id, variant="video").content == mp4

    thumb = Image.open(io.BytesIO(client.videos.download_content(video.id, variant="thumbnail").content))
    assert thumb.format == "WEBP" and thumb.size == (1280, 720)
    sheet = Image.open(io.BytesIO(client.videos.download_content(video.id, variant="spritesheet").content))
    assert sheet.format == "JPEG" and sheet.size == (4 * 256, 4 * 144)  # 16 tiles, 4 columns, 256 px wide


def test_portrait_sora_size_and_pro_alias(client):
    video = client.videos.create_and_poll(prompt="a tall tower", model="sora-2-pro-2025-10-06", size="720x1280")
    assert video.status == "completed" and video.seconds == "4" and video.model == "sora-2-pro-2025-10-06"
    w, h, _, _ = _mp4_info(client.videos.download_content(video.id).content)
    assert (w, h) == (720, 1280)


def test_defaults_local_model_name_and_models_list(server, client):
    video = client.videos.create(prompt="defaults")
    assert (video.status, video.progress, video.seconds, video.size, video.model) == (
        "queued", 0, "4", "720x1280", "tenku-fake")
    assert [m.id for m in client.models.list()] == ["tenku-fake"]


def test_list_paginates_with_the_sdk_cursor(server):
    c = server.client(KEY_C)  # key C makes videos only here: the list is exactly ours
    ids = [c.videos.create(prompt=f"clip {i}", size=SMALL).id for i in range(5)]
    page = c.videos.list(limit=2, order="asc")
    assert [v.id for v in page.data] == ids[:2] and page.has_more and page.last_id == ids[1]
    assert [v.id for v in c.videos.list(limit=2, order="asc")] == ids  # auto-pagination follows `after`
    assert [v.id for v in c.videos.list(limit=3)] == ids[::-1]  # default order: newest first
    last = c.videos.list(limit=2, order="asc", after=ids[3])
    assert [v.id for v in last.data] == ids[4:] and not last.has_more
    assert c.videos.list(limit=0).data == []
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.list(limit=101)
    assert e.value.param == "limit"
    with pytest.raises(openai.BadRequestError) as e:
        c.videos.list(after="video_nope")
    assert e.value.param == "after"
    for i in ids:
        c.videos.poll(i, poll_interval_ms=20)


def test_delete_then_everything_is_404(client):
    video = client.videos.create_and_poll(prompt="to delete", size=SMALL)
    deleted = client.videos.delete(video.id)
    assert (deleted.id, deleted.object, deleted.deleted) == (video.id, "video.deleted", True)
    for call in (lambda: client.videos.retrieve(video.id), lambda: client.videos.delete(video.id),
                 lambda: client.videos.download_content(video.id)):
        with pytest.raises(openai.NotFoundError) as e:
            call()
        assert e.value.code == "not_found" and e.value.param == "video_id"


def test_remix_keeps_size_and_length_and_links_the_source(client):
    source = client.videos.create_and_poll(prompt="a blue cube", size=SMALL, seconds="8")
    remix = client.videos.remix(source.id, prompt="the same cube, but green")
    assert remix.remixed_from_video_id == source.id and remix.status == "queued"
    remix = client.videos.poll(remix.id)
    assert (remix.status, remix.size, remix.seconds, remix.prompt) == (
        "completed", SMALL, "8", "the same cube, but green")
    assert _mp4_info(client.videos.download_content(remix.id).content)[:2] == (128, 72)


def test_remix_of_an_unfinished_video_is_a_400(client):
    pending = client.videos.create(prompt="slow pace=0.3", size=SMALL)
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.remix(pending.id, prompt="too early")
    assert e.value.code == "invalid_state"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.download_content(pending.id)
    assert "completed" in e.value.message
    with pytest.raises(openai.BadRequestError):
        client.videos.delete(pending.id)  # active: cancel first
    client.post(f"/videos/{pending.id}/cancel", cast_to=object)


def test_extend_an_uploaded_video_and_a_video_by_id(client, tmp_path):
    clip = make_mp4(tmp_path / "clip.mp4", frames=16, w=96, h=64, fps=8)  # 2 s
    ext = client.videos.extend(prompt="keep going", seconds="4", video=clip)
    assert ext.seconds == "6" and ext.size == "96x64"  # the stitched total
    ext = client.videos.poll(ext.id)
    assert ext.status == "completed", ext.error
    w, h, frames, fps = _mp4_info(client.videos.download_content(ext.id).content)
    assert (w, h, frames) == (96, 64, 6 * 8)

    source = client.videos.create_and_poll(prompt="a rolling ball", size=SMALL, seconds="4")
    ext = client.videos.extend(prompt="and further", seconds="16", video=openai.omit,
                               extra_body={"video": {"id": source.id}})
    assert ext.seconds == "20"
    ext = client.videos.poll(ext.id)
    assert ext.status == "completed" and _mp4_info(client.videos.download_content(ext.id).content)[2] == 20 * 8

    with pytest.raises(openai.BadRequestError) as e:
        client.videos.extend(prompt="x", seconds="7.5", video=clip)
    assert e.value.param == "seconds"


def test_edit_an_uploaded_video(client, tmp_path):
    clip = make_mp4(tmp_path / "edit.mp4", frames=12, w=64, h=96, fps=8)
    edit = client.videos.edit(prompt="make it night", video=("edit.mp4", clip.read_bytes(), "video/mp4"))
    assert edit.size == "64x96" and edit.seconds == "1.5"
    edit = client.videos.poll(edit.id)
    assert edit.status == "completed"
    assert _mp4_info(client.videos.download_content(edit.id).content)[:3] == (64, 96, 12)


def test_image_input_reference_starts_the_video(client):
    png = make_png(64, 36, color=(255, 0, 0))
    video = client.videos.create_and_poll(prompt="from a red image", size=SMALL,
                                          input_reference=("ref.png", png, "image/png"))
    assert video.status == "completed"
    data = client.videos.download_content(video.id).content
    with av.open(io.BytesIO(data)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert first[..., 0].mean() > 200 and first[..., 1].mean() < 60  # the first frame is the reference image


def test_characters_create_and_get(client, server, tmp_path):
    clip = make_mp4(tmp_path / "hero.mp4")
    made = client.videos.create_character(name="Hero", video=clip)
    assert made.id.startswith("char_") and made.name == "Hero" and made.created_at > 0
    got = client.videos.get_character(made.id)
    assert (got.id, got.name, got.created_at) == (made.id, "Hero", made.created_at)
    with pytest.raises(openai.NotFoundError) as e:
        server.client(KEY_B).videos.get_character(made.id)
    assert e.value.param == "character_id"
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create_character(name="Nobody", video=("x.mp4", make_png(), "video/mp4"))
    assert e.value.param == "video" and "image" in e.value.message


def test_another_keys_video_is_404_everywhere(server, client):
    video = client.videos.create_and_poll(prompt="mine", size=SMALL)
    other = server.client(KEY_B)
    by_id = {"video": openai.omit, "extra_body": {"video": {"id": video.id}}}
    for call in (lambda: other.videos.retrieve(video.id), lambda: other.videos.download_content(video.id),
                 lambda: other.videos.delete(video.id), lambda: other.videos.remix(video.id, prompt="steal"),
                 lambda: other.videos.extend(prompt="steal", seconds="4", **by_id),
                 lambda: other.videos.edit(prompt="steal", **by_id),
                 lambda: other.videos.create_character(name="Thief", **by_id)):
        with pytest.raises(openai.NotFoundError) as e:
            call()
        assert e.value.param in ("video_id", "video[id]")
    assert video.id not in [v.id for v in other.videos.list()]
    assert client.videos.retrieve(video.id).status == "completed"


def test_errors_map_to_the_sdk_exceptions(server, client):
    with pytest.raises(openai.AuthenticationError) as e:
        server.client("sk-wrong-key-123456").videos.list()
    assert e.value.status_code == 401 and e.value.code == "invalid_api_key"
    assert e.value.request_id and e.value.request_id.startswith("req_")
    with pytest.raises(openai.NotFoundError) as e:
        client.videos.retrieve("video_does_not_exist")
    assert (e.value.code, e.value.param, e.value.type) == ("not_found", "video_id", "invalid_request_error")
    for kwargs, param in (({"size": "999x1"}, "size"), ({"seconds": "5.5"}, "seconds"), ({"seconds": "61"}, "seconds"),
                          ({"model": "dall-e-3"}, "model"), ({"prompt": ""}, "prompt")):
        with pytest.raises(openai.BadRequestError) as e:
            client.videos.create(**{"prompt": "x", **kwargs})
        assert e.value.param == param, kwargs
        assert e.value.body["message"] and e.value.request_id
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.create(prompt="x", extra_body={"colour": "red"})
    assert e.value.param == "colour" and e.value.code == "unknown_parameter"
    queued = client.videos.create(prompt="a video to ask a bad variant of", size=SMALL)
    with pytest.raises(openai.BadRequestError) as e:
        client.videos.download_content(queued.id, variant="gif")
    assert e.value.param == "variant"


def test_long_durations_up_to_60_seconds_are_accepted(client):
    video = client.videos.create(prompt="a long take", seconds="60", size="64x64")
    assert video.seconds == "60"
    assert client.videos.poll(video.id).status == "completed"


def test_queue_full_is_a_429_with_retry_after(server, client):
    from tenku.server.services import get_settings

    tight = server.settings.model_copy(update={"max_active_jobs": 0, "retry_after_s": 7})
    server.app.dependency_overrides[get_settings] = lambda: tight
    try:
        with pytest.raises(openai.RateLimitError) as e:
            client.videos.create(prompt="one too many")
    finally:
        server.app.dependency_overrides.clear()
    assert e.value.status_code == 429 and e.value.code == "queue_full"
    assert e.value.response.headers["retry-after"] == "7"
    assert client.videos.create(prompt="room again", size=SMALL).status == "queued"
