"""The routes under /v1: OpenAI's Videos API paths, then tenku's extras.

OpenAI's paths (reference section 2): POST /videos, GET /videos, GET|DELETE /videos/{id}, POST /videos/{id}/remix,
GET /videos/{id}/content, POST /videos/edits, POST /videos/extensions, POST /videos/characters,
GET /videos/characters/{id}; and GET /models.
tenku's extras: POST /videos/loops, /videos/connections, /videos/storyboards, POST /videos/{id}/cancel and the
server-sent-events stream GET /videos/{id}/events.

Handlers that only touch the store are plain `def` (FastAPI runs them in its thread pool); handlers that read a
body are `async def` and hand the blocking part (validation, decoding uploads, the store) to the thread pool.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from typing import Annotated, AsyncIterator, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from tenku.server.errors import ApiError, bad_request, invalid_state, not_found
from tenku.server.intake import (CHARACTER_FIELDS, CONNECTION_FIELDS, CREATE_FIELDS, EDIT_FIELDS, EXTENSION_FIELDS,
                                 REMIX_FIELDS, STORYBOARD_FIELDS, Intake, content_path, owned_job, read_body)
from tenku.server.jobs import ACTIVE, TERMINAL
from tenku.server.schemas import (CharacterObject, ModelList, ModelObject, VideoDeleted, VideoList, VideoObject,
                                  character_object, video_object)
from tenku.server.services import Services, current_owner, get_services, get_settings
from tenku.server.settings import ServerSettings
from tenku.server.worker import job_dir, upload_dir

EVENTS_POLL_S = 0.25  # how often the SSE stream looks at the store (any process may be moving the job)
EVENTS_KEEPALIVE_S = 15.0

Owner = Annotated[str, Depends(current_owner)]
Svc = Annotated[Services, Depends(get_services)]
Settings = Annotated[ServerSettings, Depends(get_settings)]

router = APIRouter(prefix="/v1")
_STARTED = int(time.time())


@router.get("/models", response_model=ModelList, tags=["models"])
def list_models(owner: Owner, svc: Svc) -> ModelList:
    """The local model. The Sora names (sora-2, sora-2-pro, dated snapshots) are accepted as aliases of it."""
    return ModelList(data=[ModelObject(id=svc.model_name, created=_STARTED)])


# -- OpenAI's paths ----------------------------------------------------------------------------------------------


@router.post("/videos", response_model=VideoObject, tags=["videos"])
async def create_video(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    """Text (or image) to video. Multipart, as the SDK sends it, or JSON."""
    async with read_body(request, fields=CREATE_FIELDS, files=("input_reference",)) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).create, body)
    return video_object(job)


@router.get("/videos", response_model=VideoList, tags=["videos"])
def list_videos(
    owner: Owner,
    svc: Svc,
    after: str | None = None,
    limit: Annotated[int, Query(ge=0, le=100)] = 20,
    order: Literal["asc", "desc"] = "desc",
) -> VideoList:
    try:
        jobs, has_more = svc.store.page(owner, after, limit, order)
    except LookupError:
        raise bad_request(f"Invalid value for 'after': no video with id '{after}' (deleted, or not yours).",
                          "after") from None
    data = [video_object(j) for j in jobs]
    return VideoList(data=data, first_id=data[0].id if data else None, last_id=data[-1].id if data else None,
                     has_more=has_more)


@router.post("/videos/edits", response_model=VideoObject, tags=["videos"])
async def edit_video(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    async with read_body(request, fields=EDIT_FIELDS, files=("video",)) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).edit, body)
    return video_object(job)


@router.post("/videos/extensions", response_model=VideoObject, tags=["videos"])
async def extend_video(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    """`seconds` is the length added (4, 8, 12, 16, 20); the result's `seconds` is the stitched total."""
    async with read_body(request, fields=EXTENSION_FIELDS, files=("video",)) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).extension, body)
    return video_object(job)


@router.post("/videos/characters", response_model=CharacterObject, tags=["characters"])
async def create_character(request: Request, owner: Owner, svc: Svc, settings: Settings) -> CharacterObject:
    async with read_body(request, fields=CHARACTER_FIELDS, files=("video",)) as body:
        character = await run_in_threadpool(Intake(svc, settings, owner).character, body)
    return character_object(character)


@router.get("/videos/characters/{character_id}", response_model=CharacterObject, tags=["characters"])
def get_character(character_id: str, owner: Owner, svc: Svc) -> CharacterObject:
    character = svc.store.get_character(character_id, owner)
    if character is None:
        raise not_found("character", character_id, "character_id")
    return character_object(character)


# -- tenku's extras (static paths before /videos/{video_id}) ----------------------------------------------------


@router.post("/videos/loops", response_model=VideoObject, tags=["tenku extras"])
async def create_loop(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    """A clip whose last frame flows into its first; the same fields as POST /videos."""
    async with read_body(request, fields=CREATE_FIELDS, files=("input_reference",)) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).create, body, "loop")
    return video_object(job)


@router.post("/videos/connections", response_model=VideoObject, tags=["tenku extras"])
async def create_connection(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    """A bridge from `start` to `end` (each an uploaded image or video, or `start[id]` / `end[id]`)."""
    async with read_body(request, fields=CONNECTION_FIELDS, files=("start", "end")) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).connection, body)
    return video_object(job)


@router.post("/videos/storyboards", response_model=VideoObject, tags=["tenku extras"])
async def create_storyboard(request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    """`shots`: a list of {"prompt", "seconds"} played one after the other (JSON, or a JSON string in a form)."""
    async with read_body(request, fields=STORYBOARD_FIELDS, files=("input_reference",)) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).storyboard, body)
    return video_object(job)


# -- one video ---------------------------------------------------------------------------------------------------


@router.get("/videos/{video_id}", response_model=VideoObject, tags=["videos"])
def retrieve_video(video_id: str, response: Response, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    job = owned_job(svc, owner, video_id)
    if job.status in ACTIVE:  # the SDK's poll() sleeps this long between GETs
        response.headers["openai-poll-after-ms"] = str(settings.poll_after_ms)
    return video_object(job)


@router.delete("/videos/{video_id}", response_model=VideoDeleted, tags=["videos"])
def delete_video(video_id: str, owner: Owner, svc: Svc) -> VideoDeleted:
    """Deletes a completed, failed or cancelled video and its files (cancel an active one first)."""
    job = owned_job(svc, owner, video_id)
    if job.status in ACTIVE:
        raise invalid_state(
            f"Video '{video_id}' is {job.status}; cancel it first (POST /v1/videos/{video_id}/cancel) or wait until "
            "it completes."
        )
    svc.store.delete(job.id)
    shutil.rmtree(job_dir(svc.data_dir, job.id), ignore_errors=True)
    shutil.rmtree(upload_dir(svc.data_dir, job.id), ignore_errors=True)
    return VideoDeleted(id=job.id)


@router.post("/videos/{video_id}/remix", response_model=VideoObject, tags=["videos"])
async def remix_video(video_id: str, request: Request, owner: Owner, svc: Svc, settings: Settings) -> VideoObject:
    async with read_body(request, fields=REMIX_FIELDS) as body:
        job = await run_in_threadpool(Intake(svc, settings, owner).remix, video_id, body)
    return video_object(job)


@router.get("/videos/{video_id}/content", tags=["videos"],
            responses={200: {"content": {"video/mp4": {}, "image/webp": {}, "image/jpeg": {}}}})
def download_content(video_id: str, owner: Owner, svc: Svc, variant: str = "video") -> FileResponse:
    """The MP4 (`variant=video`, the default), a WebP thumbnail or a JPEG spritesheet (16 frames, 4 columns)."""
    job = owned_job(svc, owner, video_id)
    path, media_type = content_path(svc, job, variant)
    if not path.is_file():
        raise ApiError(404, f"The {variant} file of video '{video_id}' is missing on the server.", param="video_id",
                       code="not_found")
    return FileResponse(path, media_type=media_type)


@router.post("/videos/{video_id}/cancel", response_model=VideoObject, tags=["tenku extras"])
def cancel_video(video_id: str, owner: Owner, svc: Svc) -> VideoObject:
    """Stops a queued or in-progress video; its status becomes `cancelled` (a generation stops at its next step)."""
    job = owned_job(svc, owner, video_id)
    if not svc.store.cancel(job.id):
        job = owned_job(svc, owner, video_id)
        raise invalid_state(f"Video '{video_id}' is already {job.status}; only a queued or in-progress video can be "
                            "cancelled.")
    return video_object(owned_job(svc, owner, video_id))


@router.get("/videos/{video_id}/events", tags=["tenku extras"],
            responses={200: {"content": {"text/event-stream": {}}}})
async def video_events(video_id: str, request: Request, owner: Owner, svc: Svc) -> StreamingResponse:
    """Server-sent events: `video.queued`, `video.in_progress` (each time progress moves), then one of
    `video.completed`, `video.failed`, `video.cancelled` (or `video.deleted`); `data` is the Video object."""
    job = await run_in_threadpool(owned_job, svc, owner, video_id)
    return StreamingResponse(
        _event_stream(request, svc, owner, video_id, job),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _event_stream(request: Request, svc: Services, owner: str, video_id: str, job) -> AsyncIterator[str]:
    last, last_sent = None, time.monotonic()
    while True:
        if job is None:
            yield _sse("video.deleted", VideoDeleted(id=video_id).model_dump(mode="json"))
            return
        data = video_object(job).model_dump(mode="json")
        if data != last:
            yield _sse(f"video.{job.status}", data)
            last, last_sent = data, time.monotonic()
        if job.status in TERMINAL:
            return
        if time.monotonic() - last_sent > EVENTS_KEEPALIVE_S:
            yield ": keep-alive\n\n"
            last_sent = time.monotonic()
        await asyncio.sleep(EVENTS_POLL_S)
        if await request.is_disconnected():
            return
        job = await run_in_threadpool(svc.store.get, video_id, owner)


def _sse(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
