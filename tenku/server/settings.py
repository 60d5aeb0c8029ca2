"""Server settings: one pydantic `BaseSettings`, the only place the server's defaults live.

`tenku serve` / `tenku worker` flags map 1:1 onto these fields; every field can also come from a `TENKU_<FIELD>`
environment variable (lists such as `TENKU_API_KEYS` are comma-separated), which is how container deployments
configure a server. Unknown keys are an error.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tenku.errors import TenkuError

LOOPBACK_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost")


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TENKU_", extra="forbid", protected_namespaces=())

    # -- where and what ----------------------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path.home() / ".tenku" / "server"  # job store, queue, uploads and delivered videos
    model: Path | None = None  # checkpoint folder for tenku.pipeline.Pipeline.from_pretrained (None: the shipped one)
    device: str = "cpu"  # where the model runs ("cuda", "cuda:1", ...)
    generator: Literal["pipeline", "fake"] = "pipeline"  # "fake": a fast procedural stand-in (demos, tests)
    model_name: str | None = None  # the name at GET /v1/models; default: the model folder's name (or "tenku-fake")
    workers_in_process: int = Field(1, ge=0, le=8)  # worker threads inside `tenku serve`; 0 = external only

    # -- who -------------------------------------------------------------------------------------------------
    api_keys: Annotated[list[str], NoDecode] = []  # TENKU_API_KEYS=key1,key2
    api_keys_file: Path | None = None  # one key per line, '#' starts a comment
    allow_public_without_keys: bool = False  # bind a non-loopback address with no keys (anyone can generate)

    # -- limits ----------------------------------------------------------------------------------------------
    max_active_jobs: int = Field(64, ge=0)  # queued + in_progress jobs before POSTs get 429
    retry_after_s: int = Field(10, ge=1, le=120)  # Retry-After on a 429 (the SDK only retries values <= 120 s)
    poll_after_ms: int = Field(1000, ge=10)  # `openai-poll-after-ms` on GET /v1/videos/{id} (the SDK honours it)
    max_seconds: int = Field(60, ge=4)  # longest clip asked for, beyond Sora's 4/8/12 (a documented extension)
    max_size: int = Field(1920, ge=64)  # longest side of a custom WIDTHxHEIGHT size (Sora's four always work)
    max_upload_mb: float = Field(100.0, gt=0)  # whole request body; bigger is a 413
    max_image_pixels: int = Field(4096 * 4096, gt=0)  # reference images: checked from the header, before decoding
    max_input_pixels: int = Field(1920 * 1088, gt=0)  # uploaded videos: per frame
    max_input_seconds: float = Field(60.0, gt=0)  # uploaded videos: duration
    max_input_frames: int = Field(3600, gt=0)  # uploaded videos: decoded frames (bounds decode time)
    input_long_side: int = Field(1280, ge=64)  # uploaded frames are downscaled to this long side (bounds memory)

    # -- jobs ------------------------------------------------------------------------------------------------
    job_max_attempts: int = Field(2, ge=1)  # a job whose worker died is re-run until this many attempts, then failed
    worker_lease_s: float = Field(120.0, gt=0)  # no heartbeat for this long: the worker is presumed dead
    expire_after_s: float | None = None  # delete delivered assets this long after completion (None: keep them)
    default_steps: int | None = None  # sampling steps when a request gives none (None: the model's default)

    # -- webhooks --------------------------------------------------------------------------------------------
    webhook_urls: Annotated[list[str], NoDecode] = []  # video.completed / video.failed go to every URL here
    webhook_secret: str | None = None  # "whsec_<base64>" or raw; signs deliveries (Standard Webhooks, as OpenAI)
    webhook_max_attempts: int = Field(8, ge=1)
    webhook_backoff_s: float = Field(2.0, gt=0)  # retry i waits backoff * 2**i (capped at 10 min)
    webhook_timeout_s: float = Field(10.0, gt=0)

    # -- the fake generator (generator="fake") ----------------------------------------------------------------
    fake_steps: int = Field(8, ge=1)  # sampling steps it reports through `progress`
    fake_step_s: float = Field(0.0, ge=0)  # seconds it sleeps per step (tests use it to make slow jobs)
    fake_fps: int = Field(8, ge=1)

    @field_validator("api_keys", "webhook_urls", mode="before")
    @classmethod
    def _split_commas(cls, v: object) -> object:
        if isinstance(v, str):
            return [s.strip() for s in v.split(",") if s.strip()]
        return v

    @field_validator("webhook_urls")
    @classmethod
    def _check_urls(cls, v: list[str]) -> list[str]:
        for url in v:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"webhook URLs must start with http:// or https://, got {url!r}")
        return v

    @model_validator(mode="after")
    def _check_webhooks(self) -> "ServerSettings":
        if self.webhook_urls and not self.webhook_secret:
            raise ValueError(
                "webhook URLs need a signing secret: give --webhook-secret (e.g. whsec_ followed by base64 bytes)"
            )
        return self

    def resolved_model_name(self) -> str:
        if self.model_name:
            return self.model_name
        if self.generator == "fake":
            return "tenku-fake"
        if self.model is None:
            return "tenku-world"  # the model shipped in the package
        path = Path(self.model).resolve()
        return path.parent.name if path.name == "model" else path.name  # runs/dit/model -> "dit"

    def load_api_keys(self) -> list[str]:
        """Keys from `api_keys` plus `api_keys_file`; a missing or empty file is a clear error."""
        keys = list(self.api_keys)
        if self.api_keys_file is not None:
            path = Path(self.api_keys_file)
            if not path.is_file():
                raise TenkuError(f"--api-keys-file {path}: no such file")
            file_keys = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
            file_keys = [k for k in file_keys if k]
            if not file_keys:
                raise TenkuError(f"--api-keys-file {path} holds no keys (one key per line, '#' starts a comment)")
            keys += file_keys
        for k in keys:
            if len(k) < 8 or any(c.isspace() for c in k):
                raise TenkuError("API keys must be at least 8 characters without spaces; got a shorter or spaced key")
        return keys

    def check_bind(self, keys: list[str]) -> str | None:
        """Refuse a public bind without keys; return the note to print when running open on loopback."""
        if keys:
            return None
        if not is_loopback(self.host):
            if not self.allow_public_without_keys:
                raise TenkuError(
                    f"refusing to listen on {self.host} without API keys: anyone who can reach it could generate "
                    "videos. Give --api-keys-file FILE (or TENKU_API_KEYS), bind 127.0.0.1, or pass "
                    "--allow-public-without-keys"
                )
            return f"no API keys configured and --allow-public-without-keys given: {self.host} is open to anyone"
        return f"no API keys configured: listening on loopback only ({self.host}); any bearer token is accepted"


def settings_from_flags(**flags) -> ServerSettings:
    """Settings from CLI flags (those left at None fall back to TENKU_* variables, then to the defaults above);
    a bad value is one clear line, not a pydantic traceback."""
    from pydantic import ValidationError

    try:
        return ServerSettings(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        flag = "--" + where.replace("_", "-") if first["loc"] else where
        raise TenkuError(f"{flag}: {first['msg']}") from None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
