"""The wire format: response objects exactly as the `openai` SDK reads them, and validation of request fields.

Response shapes follow /work/shared/reference/openai-videos-api.md sections 2-3: every field of `Video` is sent,
`null` where unset; `seconds` and `size` are strings. Request fields arrive as text (multipart parts, or JSON
values turned to text), and the SDK validates nothing, so every check happens here with a 400 naming the `param`.

Accepted beyond Sora (documented extensions): `seconds` any whole number up to `max_seconds` (60), `size` any
even WIDTHxHEIGHT up to `max_size`, and the generation knobs `seed`, `steps`, `guidance`, `negative_prompt`
(send them with the SDK's `extra_body=`), and `strength` for remixes and edits.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from tenku.server.errors import bad_request
from tenku.server.jobs import Character, Job

SORA_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
SORA_SECONDS = ("4", "8", "12")
EXTENSION_SECONDS = ("4", "8", "12", "16", "20")
DEFAULT_SIZE, DEFAULT_SECONDS = "720x1280", "4"
SORA_MODEL = re.compile(r"^sora-2(-pro)?(-\d{4}-\d{2}-\d{2})?$")  # sora-2, sora-2-pro and their dated snapshots
MAX_PROMPT_CHARS = 10_000


# -- responses ---------------------------------------------------------------------------------------------------


class VideoErrorObject(BaseModel):
    code: str
    message: str


class VideoObject(BaseModel):
    id: str
    object: Literal["video"] = "video"
    created_at: int
    # queued | in_progress | completed | failed, and "cancelled" after POST /v1/videos/{id}/cancel (a tenku
    # extension; the SDK's poll() returns on it like on any status it does not know)
    status: str
    progress: int
    model: str
    seconds: str
    size: str
    prompt: str | None
    remixed_from_video_id: str | None
    completed_at: int | None
    expires_at: int | None
    error: VideoErrorObject | None


class VideoList(BaseModel):
    object: Literal["list"] = "list"
    data: list[VideoObject]
    first_id: str | None
    last_id: str | None
    has_more: bool


class VideoDeleted(BaseModel):
    id: str
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool = True


class CharacterObject(BaseModel):
    id: str | None
    created_at: int
    name: str | None


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "tenku"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorEnvelope(BaseModel):
    error: ErrorDetail


def video_object(job: Job) -> VideoObject:
    err = VideoErrorObject(code=job.error["code"], message=job.error["message"]) if job.error else None
    return VideoObject(
        id=job.id,
        created_at=job.created_at,
        status=job.status,
        progress=job.progress,
        model=job.model,
        seconds=job.seconds,
        size=job.size,
        prompt=job.prompt,
        remixed_from_video_id=job.remixed_from,
        completed_at=job.completed_at,
        expires_at=job.expires_at,
        error=err,
    )


def character_object(c: Character) -> CharacterObject:
    return CharacterObject(id=c.id, created_at=c.created_at, name=c.name)


# -- request fields ----------------------------------------------------------------------------------------------


def parse_prompt(value: Any, param: str = "prompt", required: bool = True) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise bad_request(f"Missing required parameter: '{param}'.", param, code="missing_required_parameter")
        return None
    if not isinstance(value, str):
        raise bad_request(f"'{param}' must be a string.", param)
    if len(value) > MAX_PROMPT_CHARS:
        raise bad_request(f"'{param}' is {len(value)} characters; the limit is {MAX_PROMPT_CHARS}.", param)
    return value.strip()


def parse_model(value: Any, local_name: str) -> str:
    """The model name to report: a Sora name (an alias of the loaded model) or the local name; default local."""
    if value is None or value == "":
        return local_name
    if isinstance(value, str) and (value == local_name or SORA_MODEL.match(value)):
        return value
    raise bad_request(
        f"Invalid value for 'model': {value!r}. This server serves '{local_name}'; the Sora names sora-2, "
        "sora-2-pro (and their dated snapshots) are accepted as aliases of it.",
        "model",
    )


def parse_seconds(value: Any, *, max_seconds: int, sora: tuple[str, ...] = SORA_SECONDS, default: str | None = None,
                  param: str = "seconds") -> int:
    """Whole seconds: one of Sora's values, or (tenku extension) any whole number from 1 to `max_seconds`."""
    if value is None or value == "":
        if default is None:
            raise bad_request(f"Missing required parameter: '{param}'.", param, code="missing_required_parameter")
        value = default
    text = str(value).strip()
    if re.fullmatch(r"\d+", text) and 1 <= int(text) <= max_seconds:
        return int(text)
    raise bad_request(
        f"Invalid value for '{param}': {text!r}. Supported values are {', '.join(repr(s) for s in sora)} "
        f"(and, on this server, any whole number of seconds from 1 to {max_seconds}).",
        param,
    )


def parse_size(value: Any, *, max_size: int, param: str = "size") -> tuple[int, int]:
    """'WIDTHxHEIGHT': one of Sora's four sizes, or (tenku extension) any even size from 64 to `max_size`."""
    text = DEFAULT_SIZE if value is None or value == "" else str(value).strip()
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if m:
        w, h = int(m.group(1)), int(m.group(2))
        if text in SORA_SIZES or (64 <= w <= max_size and 64 <= h <= max_size and w % 2 == 0 and h % 2 == 0):
            return w, h
    raise bad_request(
        f"Invalid value for '{param}': {text!r}. Supported values are {', '.join(repr(s) for s in SORA_SIZES)} "
        f"(and, on this server, any even WIDTHxHEIGHT with sides from 64 to {max_size}).",
        param,
    )


def parse_extras(fields: dict[str, Any]) -> dict[str, Any]:
    """tenku's generation knobs: seed, steps, guidance, negative_prompt (all optional)."""
    out: dict[str, Any] = {}
    for name, kind, lo, hi in (("seed", int, 0, 2**32 - 1), ("steps", int, 1, 1000), ("guidance", float, 0.0, 50.0)):
        v = fields.get(name)
        if v is None or v == "":
            continue
        try:
            num = kind(str(v).strip())
        except ValueError:
            raise bad_request(f"'{name}' must be {'a whole number' if kind is int else 'a number'}, got {v!r}.", name) from None
        if not lo <= num <= hi:
            raise bad_request(f"'{name}' must be between {lo} and {hi}, got {num}.", name)
        out[name] = num
    neg = parse_prompt(fields.get("negative_prompt"), "negative_prompt", required=False)
    if neg:
        out["negative_prompt"] = neg
    return out


EXTRA_FIELDS = ("seed", "steps", "guidance", "negative_prompt")


def parse_strength(value: Any, param: str = "strength") -> float | None:
    """Remix and edit: how far to move from the source, in (0, 1] (1 keeps only its layout of time and size)."""
    if value is None or value == "":
        return None
    try:
        num = float(str(value).strip())
    except ValueError:
        raise bad_request(f"'{param}' must be a number in (0, 1], got {value!r}.", param) from None
    if not 0.0 < num <= 1.0:
        raise bad_request(f"'{param}' must be in (0, 1] (0 would return the source unchanged), got {num}.", param)
    return num


def format_seconds(seconds: float) -> str:
    """The API's `seconds` string: '8' for whole seconds, else two decimals at most ('3.75')."""
    r = round(seconds, 2)
    return str(int(r)) if r == int(r) else f"{r:g}"
