"""Webhooks: `video.completed` and `video.failed`, signed as OpenAI signs them, retried with backoff.

Payload (reference section 5): `{"id": "evt_...", "object": "event", "created_at": <unix>, "type": "video.completed",
"data": {"id": "video_..."}}`. Signing follows Standard Webhooks, which is what `client.webhooks.unwrap` checks:
headers `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256(secret,
"{id}.{timestamp}.{body}")>`, with a `whsec_<base64>` secret base64-decoded first.

A worker only writes events to the outbox table in the job store (`emit`, a few milliseconds); a `WebhookSender`
thread delivers them, so a slow or dead receiver never holds up a job, and a restart resumes pending deliveries.
Each attempt is signed with a fresh timestamp (receivers reject timestamps older than 300 s).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request

from tenku.server.jobs import Delivery, JobStore

log = logging.getLogger("tenku.server.webhooks")

EVENT_TYPES = ("video.completed", "video.failed")
MAX_BACKOFF_S = 600.0


def secret_bytes(secret: str) -> bytes:
    """The HMAC key: `whsec_<base64>` decoded, anything else used as UTF-8 (as the SDK does)."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret[len("whsec_"):])
    return secret.encode()


def sign(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The `webhook-signature` header value for one delivery."""
    mac = hmac.new(secret_bytes(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def event_body(event_id: str, type: str, video_id: str, created_at: int) -> str:
    return json.dumps(
        {"id": event_id, "object": "event", "created_at": created_at, "type": type, "data": {"id": video_id}},
        separators=(",", ":"),
    )


class WebhookSender:
    """Writes events to the outbox (`emit`) and delivers them from a background thread (`start` / `stop`)."""

    def __init__(
        self,
        store: JobStore,
        urls: list[str],
        secret: str,
        max_attempts: int = 8,
        backoff_s: float = 2.0,
        timeout_s: float = 10.0,
    ):
        self.store = store
        self.urls = list(urls)
        self.secret = secret
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def emit(self, type: str, video_id: str) -> None:
        assert type in EVENT_TYPES, type
        event_id = "evt_" + secrets.token_hex(16)
        body = event_body(event_id, type, video_id, int(time.time()))
        now = time.time()
        self.store.add_deliveries([Delivery(id=event_id, url=u, body=body, next_at=now) for u in self.urls])
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="tenku-webhooks", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                delivery = self.store.claim_delivery(time.time(), lease_s=self.timeout_s + 30)
            except Exception:  # a locked or briefly unavailable store: try again shortly
                log.exception("webhook outbox: could not read the store")
                delivery = None
            if delivery is None:
                self._wake.wait(0.5)
                self._wake.clear()
                continue
            self.deliver(delivery)

    def deliver(self, d: Delivery) -> bool:
        """One attempt; records the outcome (delivered, retry later, or abandoned) in the store."""
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tenku-webhooks/1",
            "webhook-id": d.id,
            "webhook-timestamp": str(ts),
            "webhook-signature": sign(self.secret, d.id, ts, d.body),
        }
        req = urllib.request.Request(d.url, data=d.body.encode(), headers=headers, method="POST")
        error = None
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                if not 200 <= resp.status < 300:
                    error = f"HTTP {resp.status}"
        except urllib.error.HTTPError as e:
            error = f"HTTP {e.code}"
        except Exception as e:  # refused, timed out, DNS: all worth a retry
            error = f"{type(e).__name__}: {e}"
        if error is None:
            self.store.finish_delivery(d.id, d.url, "delivered", time.time(), None)
            return True
        if d.attempts >= self.max_attempts:
            log.warning("webhook %s to %s abandoned after %d attempts: %s", d.id, d.url, d.attempts, error)
            self.store.finish_delivery(d.id, d.url, "abandoned", time.time(), error)
        else:
            delay = min(self.backoff_s * 2 ** (d.attempts - 1), MAX_BACKOFF_S)
            log.info("webhook %s to %s failed (%s); retry %d in %.1f s", d.id, d.url, error, d.attempts, delay)
            self.store.finish_delivery(d.id, d.url, "pending", time.time() + delay, error)
        return False
