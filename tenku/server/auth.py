"""API keys: who is asking, as an owner id that scopes every video and character.

Keys come from `--api-keys-file` and `TENKU_API_KEYS`. Only their SHA-256 is kept and stored with each job, so the
database never holds a usable key. Each key sees only its own videos and characters: another key's id answers
404, exactly like an id that does not exist (no way to probe which ids are taken).

With no keys configured the server is open (it then binds loopback only, see settings.check_bind): every request
belongs to the one owner `local`, whatever bearer token the SDK sends (it insists on sending one).
"""

from __future__ import annotations

import hashlib
import hmac

from tenku.server.errors import ApiError

OPEN_OWNER = "local"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    def __init__(self, keys: list[str]):
        self._hashes = [hash_key(k) for k in keys]

    @property
    def open(self) -> bool:
        return not self._hashes

    def owner(self, authorization: str | None) -> str:
        """The owner id for an `Authorization` header; 401 when keys are configured and it is missing or wrong."""
        if self.open:
            return OPEN_OWNER
        if not authorization:
            raise _unauthorized(
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' "
                "(the openai SDK does this from api_key=...)."
            )
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("The Authorization header must be 'Bearer YOUR_KEY'.")
        h = hash_key(token)
        for known in self._hashes:  # constant time per comparison; the list is short
            if hmac.compare_digest(h, known):
                return known
        raise _unauthorized(f"Incorrect API key provided: {_redact(token)}.")


def _redact(token: str) -> str:
    return token[:3] + "*" * 4 + token[-4:] if len(token) > 10 else "*" * len(token)


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, code="invalid_api_key", headers={"WWW-Authenticate": "Bearer"})
