"""The intake of new work: read a request body, validate every field, save and check the inputs, queue the job.

Bodies are multipart (what the SDK always sends for create, edit, extend and characters) or JSON (remix, and what
curl and other SDKs send); a JSON object one level deep is flattened to the SDK's bracketed multipart names, so
`{"input_reference": {"image_url": ...}}` and the form field `input_reference[image_url]` are the same thing.
Unknown parameters are a 400 naming them, like OpenAI's API (a typo must not pass silently).

Characters (`POST /v1/videos/characters`) keep one reference frame, the middle frame of their clip. A later create,
loop or storyboard whose prompt names one of the same key's characters (its name as a whole word, any case, or its
`char_` id) and has no `input_reference` gets that frame as its image: the character conditions the video through
image-to-video. When several are named, the earliest mention wins (the model takes one image).

The `Intake` methods block (they decode uploads): routes call them in the thread pool.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Collection

from fastapi import Request
from starlette.datastructures import UploadFile

from tenku.server import schemas as S
from tenku.server.errors import ApiError, bad_request, invalid_state, not_found
from tenku.server.generator import mode_of
from tenku.server.jobs import Character, Job
from tenku.server.services import Services
from tenku.server.settings import ServerSettings
from tenku.server.uploads import (IMAGE_KINDS, VIDEO_KINDS, decode_data_url, decode_image, frame_at, link_or_copy,
                                  probe_video, save_bytes, save_stream, sniff)
from tenku.server.worker import VARIANTS, upload_dir, video_limits
from tenku.video import write_image

MAX_SHOTS = 20


@dataclass
class Body:
    fields: dict[str, Any] = field(default_factory=dict)  # text values (JSON numbers and lists kept as they are)
    files: dict[str, UploadFile] = field(default_factory=dict)


@asynccontextmanager
async def read_body(request: Request, *, fields: Collection[str], files: Collection[str] = ()) -> AsyncIterator[Body]:
    """The request's parameters; spooled upload files are removed on exit."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form = None
    try:
        if ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
            form = await request.form(max_files=max(1, len(files)), max_fields=64, max_part_size=1 << 20)
            items = list(form.multi_items())
        elif ctype == "application/json" or ctype.endswith("+json"):
            items = _json_items(await request.body())
        else:
            if (await request.body()).strip():
                raise bad_request(
                    "Send the request body as multipart/form-data or application/json.", None, "unsupported_content_type"
                )
            items = []
        body = Body()
        for k, v in items:
            if isinstance(v, UploadFile):
                if k not in files:
                    raise bad_request(
                        f"'{k}' must be a text field, not a file." if k in fields else f"Unknown parameter: '{k}'.",
                        k, "unknown_parameter" if k not in fields else "invalid_type",
                    )
                body.files[k] = v
            else:
                if k in files:
                    raise bad_request(f"'{k}' must be an uploaded file.", k, "invalid_type")
                if k not in fields:
                    raise bad_request(f"Unknown parameter: '{k}'.", k, "unknown_parameter")
                body.fields[k] = v
        yield body
    finally:
        if form is not None:
            await form.close()


def _json_items(raw: bytes) -> list[tuple[str, Any]]:
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as e:
        raise bad_request(f"The request body is not valid JSON ({e}).", None, "invalid_json") from None
    if not isinstance(data, dict):
        raise bad_request("The JSON body must be an object.", None, "invalid_json")
    items = []
    for k, v in data.items():
        if isinstance(v, dict):
            items += [(f"{k}[{kk}]", vv) for kk, vv in v.items()]
        elif v is not None:
            items.append((k, v))
    return items


# the parameters each endpoint takes (tenku's generation knobs on all of them)
CREATE_FIELDS = ("prompt", "model", "seconds", "size", "input_reference[image_url]", "input_reference[file_id]",
                 *S.EXTRA_FIELDS)
REMIX_FIELDS = ("prompt", "strength", *S.EXTRA_FIELDS)
EDIT_FIELDS = ("prompt", "model", "video[id]", "strength", *S.EXTRA_FIELDS)
EXTENSION_FIELDS = ("prompt", "model", "seconds", "video[id]", *S.EXTRA_FIELDS)
CONNECTION_FIELDS = ("prompt", "model", "seconds", "size", "start[id]", "end[id]", *S.EXTRA_FIELDS)
STORYBOARD_FIELDS = ("prompt", "model", "size", "shots", "input_reference[image_url]", "input_reference[file_id]",
                     *S.EXTRA_FIELDS)
CHARACTER_FIELDS = ("name", "video[id]")
IMAGE_FIELDS = ("input_reference", "input_reference[image_url]", "input_reference[file_id]")
CHARACTER_REFERENCE = "reference.png"  # in data_dir/characters/<id>/: the frame that conditions later prompts


@dataclass
class _Clip:
    path: str  # relative to the data dir
    kind: str  # "image" or "video"
    width: int
    height: int
    seconds: float


class Intake:
    def __init__(self, services: Services, settings: ServerSettings, owner: str):
        self.svc, self.settings, self.owner = services, settings, owner
        self.data_dir = services.data_dir

    # -- endpoints -------------------------------------------------------------------------------------------

    def create(self, body: Body, kind: str = "create") -> Job:
        """POST /v1/videos (kind "create") and POST /v1/videos/loops (kind "loop")."""
        f, s = body.fields, self.settings
        prompt = S.parse_prompt(f.get("prompt"))
        model = S.parse_model(f.get("model"), self.svc.model_name)
        seconds = S.parse_seconds(f.get("seconds"), max_seconds=s.max_seconds, default=S.DEFAULT_SECONDS)
        width, height = S.parse_size(f.get("size"), max_size=s.max_size)
        extras = S.parse_extras(f)
        has_image = any(k in body.files or k in f for k in IMAGE_FIELDS)
        named = [] if has_image else self._named_characters(prompt)
        self._check_capacity()
        mode = mode_of(kind, has_image or bool(named))
        self._check_mode(mode, "input_reference" if has_image else "prompt" if named else None,
                         named if mode == "image-to-video" else ())
        job = self._job(kind, model=model, seconds=seconds, size=(width, height), prompt=prompt, extras=extras)
        with self._cleanup_on_error(job.id):
            self._image_input(body, job)
            if named:
                self._character_input(named, job)
        return self._submit(job)

    def remix(self, source_id: str, body: Body) -> Job:
        prompt = S.parse_prompt(body.fields.get("prompt"))
        extras = S.parse_extras(body.fields)
        strength = S.parse_strength(body.fields.get("strength"))
        source = self._completed_source(source_id, "video_id")
        self._check_capacity()
        self._check_mode("remix", None)
        w, h = (int(v) for v in source.size.split("x"))
        job = self._job("remix", model=source.model, seconds=float(source.params["total_seconds"]), size=(w, h),
                        prompt=prompt, extras=extras)
        job.remixed_from = source.id
        if strength is not None:
            job.params["strength"] = strength
        with self._cleanup_on_error(job.id):
            self._link_source(source, job, "video")
        return self._submit(job)

    def edit(self, body: Body) -> Job:
        return self._video_job("edit", body)

    def extension(self, body: Body) -> Job:
        return self._video_job("extension", body)

    def connection(self, body: Body) -> Job:
        f, s = body.fields, self.settings
        prompt = S.parse_prompt(f.get("prompt"), required=False) or ""  # the pipeline bridges without one too
        model = S.parse_model(f.get("model"), self.svc.model_name)
        seconds = S.parse_seconds(f.get("seconds"), max_seconds=s.max_seconds, default=S.DEFAULT_SECONDS)
        width, height = S.parse_size(f.get("size"), max_size=s.max_size)
        extras = S.parse_extras(f)
        self._check_capacity()
        self._check_mode("connection", None)
        job = self._job("connection", model=model, seconds=seconds, size=(width, height), prompt=prompt, extras=extras)
        with self._cleanup_on_error(job.id):
            self._clip_input(body, job, field="start", dest="video", allow_image=True)
            self._clip_input(body, job, field="end", dest="end", allow_image=True)
        return self._submit(job)

    def storyboard(self, body: Body) -> Job:
        f, s = body.fields, self.settings
        shared = S.parse_prompt(f.get("prompt"), required=False) or ""  # said of every shot (style, setting)
        model = S.parse_model(f.get("model"), self.svc.model_name)
        width, height = S.parse_size(f.get("size"), max_size=s.max_size)
        extras = S.parse_extras(f)
        shots = self._parse_shots(f.get("shots"))
        total = sum(sec for _, sec in shots)
        if total > s.max_seconds:
            raise bad_request(f"The shots add up to {total} s; this server makes videos up to {s.max_seconds} s.",
                                "shots")
        has_image = any(k in body.files or k in f for k in IMAGE_FIELDS)
        named = [] if has_image else self._named_characters(" ".join([shared, *(p for p, _ in shots)]))
        self._check_capacity()
        self._check_mode("storyboard", None)
        prompt = " | ".join(p for p, _ in shots)
        if shared:
            prompt = f"{shared}: {prompt}"
        job = self._job("storyboard", model=model, seconds=total, size=(width, height), prompt=prompt, extras=extras)
        job.params["shots"] = [{"prompt": p, "seconds": sec} for p, sec in shots]
        job.params["storyboard_prompt"] = shared
        with self._cleanup_on_error(job.id):
            self._image_input(body, job)
            if named:
                self._character_input(named, job)
        return self._submit(job)

    def character(self, body: Body) -> Character:
        name = S.parse_prompt(body.fields.get("name"), "name")
        if len(name) > 80:
            raise bad_request("'name' must be at most 80 characters.", "name")
        char_id = "char_" + secrets.token_hex(16)
        folder = self.data_dir / "characters" / char_id
        try:
            clip = self._clip(body, field="video", folder=folder, dest="video", allow_image=False)
            self._reference_frame(clip.path, folder, clip.seconds)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        c = Character(id=char_id, owner=self.owner, name=name, created_at=int(time.time()), video=clip.path)
        self.svc.store.add_character(c)
        return c

    # -- shared steps ----------------------------------------------------------------------------------------

    def _video_job(self, kind: str, body: Body) -> Job:
        """POST /v1/videos/edits and /v1/videos/extensions: a prompt and a video (uploaded, or `video[id]`)."""
        f, s = body.fields, self.settings
        prompt = S.parse_prompt(f.get("prompt"))
        model = S.parse_model(f.get("model"), self.svc.model_name)
        ext_seconds = None
        if kind == "extension":
            ext_seconds = S.parse_seconds(f.get("seconds"), max_seconds=s.max_seconds, sora=S.EXTENSION_SECONDS)
        extras = S.parse_extras(f)
        strength = S.parse_strength(f.get("strength"))  # only edits take it (EDIT_FIELDS)
        self._check_capacity()
        self._check_mode(kind, None)
        job = self._job(kind, model=model, seconds=0, size=(0, 0), prompt=prompt, extras=extras)
        if strength is not None:
            job.params["strength"] = strength
        with self._cleanup_on_error(job.id):
            clip = self._clip_input(body, job, field="video", dest="video", allow_image=False)
        gen_seconds = ext_seconds if kind == "extension" else clip.seconds
        total = clip.seconds + (ext_seconds or 0)
        job.size = f"{clip.width}x{clip.height}"
        job.seconds = S.format_seconds(total)
        job.params.update(seconds=gen_seconds, total_seconds=total)
        return self._submit(job)

    def _job(self, kind: str, *, model: str, seconds: float, size: tuple[int, int], prompt: str | None,
             extras: dict[str, Any]) -> Job:
        params = {"seconds": float(seconds), "total_seconds": float(seconds), "seed": secrets.randbelow(2**31),
                  "inputs": {}, "input_kinds": {}}
        if self.settings.default_steps:
            params["steps"] = self.settings.default_steps
        params.update(extras)  # an explicit seed or steps wins
        return Job(
            id="video_" + secrets.token_hex(16), owner=self.owner, kind=kind, model=model,
            seconds=S.format_seconds(seconds), size=f"{size[0]}x{size[1]}", prompt=prompt, params=params,
            created_at=int(time.time()),
        )

    def _submit(self, job: Job) -> Job:
        self.svc.store.add(job)
        self.svc.queue.put(job.id)  # if this fails, the janitor re-enqueues the queued job it finds in the store
        return job

    def _check_capacity(self) -> None:
        active = self.svc.store.count_active()
        if active >= self.settings.max_active_jobs:
            wait = self.settings.retry_after_s
            raise ApiError(
                429,
                f"The queue is full ({active} videos queued or in progress, limit {self.settings.max_active_jobs}); "
                f"retry in about {wait} s.",
                type="rate_limit_error", code="queue_full", headers={"Retry-After": str(wait)},
            )

    def _check_mode(self, mode: str, param: str | None, named: list[Character] = ()) -> None:
        why = self.svc.generator.unavailable(mode) if self.svc.generator is not None else None
        if why:
            because = ""
            if named:
                because = (f" The prompt names the character '{named[0].name}', whose reference frame conditions the "
                           "video through image-to-video.")
            raise bad_request(why[0].upper() + why[1:] + "." + because, param, "mode_unavailable")

    @contextmanager
    def _cleanup_on_error(self, job_id: str):
        """Remove a job's upload folder if building it fails (no orphaned inputs)."""
        try:
            yield
        except BaseException:
            shutil.rmtree(upload_dir(self.data_dir, job_id), ignore_errors=True)
            raise

    def _completed_source(self, video_id: str, param: str):
        source = self.svc.store.get(video_id, self.owner)
        if source is None:
            raise not_found("video", video_id, param)
        if source.status != "completed":
            raise invalid_state(f"Video '{video_id}' is {source.status}; only a completed video can be used here.",
                                param)
        if not source.files or expired(source):
            raise invalid_state(f"Video '{video_id}' has expired; its files were deleted.", param)
        return source

    def _link_source(self, source: Job, job: Job, dest: str) -> None:
        path = link_or_copy(self.data_dir / source.files["video"], upload_dir(self.data_dir, job.id) / f"{dest}.mp4")
        job.params["inputs"][dest] = str(path.relative_to(self.data_dir))
        job.params["input_kinds"][dest] = "video"

    def _named_characters(self, text: str | None) -> list[Character]:
        return named_characters(self.svc.store.characters(self.owner), text or "")

    def _character_input(self, named: list[Character], job: Job) -> None:
        """The first named character's reference frame as the job's image (image-to-video)."""
        c = named[0]
        folder = self.data_dir / "characters" / c.id
        ref = folder / CHARACTER_REFERENCE
        if not ref.is_file():  # a character made before reference frames were kept
            self._reference_frame(c.video, folder)
        path = link_or_copy(ref, upload_dir(self.data_dir, job.id) / "image.png")
        job.params["inputs"]["image"] = str(path.relative_to(self.data_dir))
        job.params["input_kinds"]["image"] = "image"
        job.params["characters"] = [x.id for x in named]

    def _reference_frame(self, video: str, folder: Path, seconds: float | None = None) -> None:
        """Keep the middle frame of a character's clip as its reference (a fade-in would spoil the first)."""
        path, limits = self.data_dir / video, video_limits(self.settings)
        if seconds is None:
            seconds = probe_video(path, limits=limits, param="video").seconds
        write_image(folder / CHARACTER_REFERENCE, frame_at(path, seconds / 2, limits=limits, param="video"))

    def _image_input(self, body: Body, job: Job) -> None:
        """`input_reference` as a file, a base64 data URL (`input_reference[image_url]`), or a refused file id."""
        f, s = body.fields, self.settings
        if f.get("input_reference[file_id]"):
            raise bad_request(
                "This server has no Files API, so 'input_reference[file_id]' cannot be resolved; upload the image as "
                "the 'input_reference' file or send it as a base64 data URL in 'input_reference[image_url]'.",
                "input_reference[file_id]", "unsupported_parameter",
            )
        if "input_reference" in body.files:
            data, param = body.files["input_reference"].file.read(), "input_reference"
        elif f.get("input_reference[image_url]"):
            param = "input_reference[image_url]"
            data = decode_data_url(str(f[param]), max_bytes=int(s.max_upload_mb * 2**20), param=param)
        else:
            return
        decode_image(data, max_pixels=s.max_image_pixels, param=param)  # the whole image decodes, or a 400
        path = save_bytes(data, upload_dir(self.data_dir, job.id) / ("image" + IMAGE_KINDS[sniff(data[:16])][0]))
        job.params["inputs"]["image"] = str(path.relative_to(self.data_dir))
        job.params["input_kinds"]["image"] = "image"

    def _clip_input(self, body: Body, job: Job, *, field: str, dest: str, allow_image: bool) -> _Clip:
        clip = self._clip(body, field=field, folder=upload_dir(self.data_dir, job.id), dest=dest,
                          allow_image=allow_image)
        job.params["inputs"][dest] = clip.path
        job.params["input_kinds"][dest] = clip.kind
        return clip

    def _clip(self, body: Body, *, field: str, folder: Path, dest: str, allow_image: bool) -> _Clip:
        """An uploaded video (or image) in part `field`, or one of the owner's completed videos as `field[id]`."""
        upload, ref = body.files.get(field), body.fields.get(f"{field}[id]")
        if upload is not None and ref:
            raise bad_request(f"Give either the '{field}' file or '{field}[id]', not both.", field)
        if ref:
            source = self._completed_source(str(ref), f"{field}[id]")
            path = link_or_copy(self.data_dir / source.files["video"], folder / f"{dest}.mp4")
            w, h = (int(v) for v in source.size.split("x"))
            return _Clip(str(path.relative_to(self.data_dir)), "video", w, h, float(source.params["total_seconds"]))
        if upload is None:
            raise bad_request(f"Missing required parameter: '{field}' (a file, or '{field}[id]').", field,
                              "missing_required_parameter")
        raw = save_stream(upload.file, folder / f"{dest}.upload")
        with open(raw, "rb") as fh:
            kind = sniff(fh.read(16))
        if kind in IMAGE_KINDS and allow_image:
            data = raw.read_bytes()
            img = decode_image(data, max_pixels=self.settings.max_image_pixels, param=field)
            path = raw.rename(raw.with_name(dest + IMAGE_KINDS[kind][0]))
            h, w = img.shape[:2]
            return _Clip(str(path.relative_to(self.data_dir)), "image", w - w % 2, h - h % 2, 0.0)
        if kind in VIDEO_KINDS:
            path = raw.rename(raw.with_name(dest + VIDEO_KINDS[kind][0]))
            info = probe_video(path, limits=video_limits(self.settings), param=field)
            return _Clip(str(path.relative_to(self.data_dir)), "video", info.width, info.height, info.seconds)
        expected = "an image (PNG, JPEG, WebP) or a video (MP4, WebM/MKV, AVI)" if allow_image else \
            "an MP4, WebM/MKV or AVI video"
        found = "an image" if kind in IMAGE_KINDS else "neither a supported image nor a supported video"
        raise bad_request(f"'{field}' must be {expected}; the uploaded bytes are {found}.", field)

    def _parse_shots(self, value: Any) -> list[tuple[str, int]]:
        if isinstance(value, str):  # multipart: the list as a JSON string
            try:
                value = json.loads(value)
            except ValueError:
                raise bad_request("'shots' must be a JSON list of {\"prompt\", \"seconds\"} objects.", "shots") from None
        if not isinstance(value, list) or not value:
            raise bad_request("Missing required parameter: 'shots' (a list of {\"prompt\", \"seconds\"} objects).",
                              "shots", "missing_required_parameter")
        if len(value) > MAX_SHOTS:
            raise bad_request(f"A storyboard has at most {MAX_SHOTS} shots, got {len(value)}.", "shots")
        shots = []
        for i, shot in enumerate(value):
            if not isinstance(shot, dict):
                raise bad_request(f"shots[{i}] must be an object with 'prompt' and 'seconds'.", f"shots[{i}]")
            unknown = set(shot) - {"prompt", "seconds"}
            if unknown:
                raise bad_request(f"Unknown parameter: 'shots[{i}].{sorted(unknown)[0]}'.", f"shots[{i}]",
                                  "unknown_parameter")
            prompt = S.parse_prompt(shot.get("prompt"), f"shots[{i}].prompt")
            sec = S.parse_seconds(shot.get("seconds"), max_seconds=self.settings.max_seconds,
                                  default=S.DEFAULT_SECONDS, param=f"shots[{i}].seconds")
            shots.append((prompt, sec))
        return shots


def named_characters(characters: list[Character], text: str) -> list[Character]:
    """The characters `text` names: by name as a whole word (any case; "@Name" works too) or by id. Earliest
    mention first; at the same place the longer name wins ("Ann Lee" over "Ann")."""
    hits = []
    for c in characters:
        starts = [m.start() for key in (c.name, c.id)
                  if (m := re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text, flags=re.IGNORECASE))]
        if starts:
            hits.append((min(starts), -len(c.name), c))
    return [c for *_, c in sorted(hits, key=lambda h: h[:2])]


def expired(job: Job, now: float | None = None) -> bool:
    """Past `expires_at`: its files count as gone even before the janitor deletes them."""
    return job.expires_at is not None and job.expires_at <= (time.time() if now is None else now)


def owned_job(svc: Services, owner: str, video_id: str) -> Job:
    job = svc.store.get(video_id, owner)
    if job is None:
        raise not_found("video", video_id, "video_id")
    return job


def content_path(svc: Services, job: Job, variant: str) -> tuple[Path, str]:
    """The file for `variant` of a completed video, with its media type."""
    if variant not in VARIANTS:
        raise bad_request(f"Invalid value for 'variant': {variant!r}. Supported values are 'video', 'thumbnail' and "
                          "'spritesheet'.", "variant")
    if job.status != "completed":
        state = f"{job.status} ({job.progress}%)" if job.status == "in_progress" else job.status
        raise invalid_state(f"Video '{job.id}' is {state}; its content is available once it is completed.")
    if not job.files or expired(job):
        raise ApiError(404, f"The files of video '{job.id}' have expired and were deleted.", param="video_id",
                       code="expired")
    return svc.data_dir / job.files[variant], VARIANTS[variant][1]
