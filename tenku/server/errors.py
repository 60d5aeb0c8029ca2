"""HTTP errors in OpenAI's envelope: `{"error": {"message", "type", "param", "code"}}`.

The `openai` SDK turns the status into its exception class (400 `BadRequestError`, 401 `AuthenticationError`, 404
`NotFoundError`, 413 `APIStatusError`, 429 `RateLimitError`, ...) and copies `param`, `code` and `type` from the
envelope, and `request_id` from our `x-request-id` header (reference: openai-videos-api.md section 4).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client as an envelope; raise it anywhere below a route."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        type: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type = type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return envelope(self.message, type=self.type, param=self.param, code=self.code)


def envelope(message: str, *, type: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def bad_request(message: str, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def not_found(what: str, id: str, param: str) -> ApiError:
    return ApiError(404, f"No {what} found with id '{id}'.", param=param, code="not_found")


def too_large(message: str, param: str | None = None) -> ApiError:
    return ApiError(413, message, param=param, code="payload_too_large")


def invalid_state(message: str, param: str = "video_id") -> ApiError:
    # 400, not 409: the SDK retries 409s, and retrying cannot change a video's state fast enough to help
    return ApiError(400, message, param=param, code="invalid_state")
