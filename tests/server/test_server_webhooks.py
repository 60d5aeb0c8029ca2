"""Webhooks as the SDK verifies them: `client.webhooks.unwrap` must accept what tenku sends."""

from __future__ import annotations

import json
import time

import openai
import pytest
from server_helpers import WEBHOOK_SECRET, start_receiver

from tenku.server.webhooks import event_body, sign

SMALL = "128x72"


def test_completed_webhook_is_accepted_by_the_sdks_unwrap(client, receiver):
    video = client.videos.create_and_poll(prompt="hooked", size=SMALL)
    headers, body = receiver.wait_for(video.id, "video.completed")
    event = client.webhooks.unwrap(body, headers, secret=WEBHOOK_SECRET)
    assert event.type == "video.completed" and event.data.id == video.id
    assert event.id.startswith("evt_") and event.object == "event" and event.created_at >= video.created_at
    assert headers["webhook-id"] == event.id
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(body.replace(video.id.encode(), b"video_forged"), headers, secret=WEBHOOK_SECRET)
    with pytest.raises(openai.InvalidWebhookSignatureError):
        client.webhooks.unwrap(body, headers, secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQQ==")


def test_failed_webhook(client, receiver):
    video = client.videos.create_and_poll(prompt="explode now", size=SMALL)
    assert video.status == "failed"
    headers, body = receiver.wait_for(video.id, "video.failed")
    event = client.webhooks.unwrap(body, headers, secret=WEBHOOK_SECRET)
    assert event.type == "video.failed" and event.data.id == video.id


def test_deliveries_are_retried_with_backoff_until_the_receiver_answers(make_server):
    flaky, httpd = start_receiver()
    flaky.fail_first = 2  # two 500s, then 200
    try:
        srv = make_server(webhook_urls=[flaky.url], webhook_secret="a-raw-secret-not-whsec", webhook_backoff_s=0.1)
        c = srv.client()
        video = c.videos.create_and_poll(prompt="persistent", size=SMALL)
        headers, body = flaky.wait_for(video.id, "video.completed")
        assert c.webhooks.unwrap(body, headers, secret="a-raw-secret-not-whsec").data.id == video.id
        [d] = srv.services.store.deliveries()
        assert (d.status, d.attempts, d.last_error) == ("delivered", 3, None)
        assert flaky.hits == 3
    finally:
        httpd.shutdown()


def test_an_unreachable_receiver_never_holds_up_a_job_and_is_abandoned(make_server):
    from server_helpers import free_port

    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    srv = make_server(webhook_urls=[dead], webhook_secret=WEBHOOK_SECRET, webhook_backoff_s=0.05,
                      webhook_max_attempts=3)
    c = srv.client()
    t0 = time.monotonic()
    assert c.videos.create_and_poll(prompt="nobody hears", size=SMALL).status == "completed"
    assert time.monotonic() - t0 < 10
    deadline = time.monotonic() + 10
    while srv.services.store.deliveries()[0].status != "abandoned":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    d = srv.services.store.deliveries()[0]
    assert d.attempts == 3 and "refused" in d.last_error


def test_sign_matches_the_sdk_for_both_secret_forms():
    client = openai.OpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")
    body = event_body("evt_1", "video.completed", "video_1", int(time.time()))
    for secret in (WEBHOOK_SECRET, "plain-secret"):
        ts = int(time.time())
        headers = {"webhook-id": "evt_1", "webhook-timestamp": str(ts), "webhook-signature": sign(secret, "evt_1", ts, body)}
        client.webhooks.verify_signature(body, headers, secret=secret)
    assert json.loads(body) == {"id": "evt_1", "object": "event", "created_at": json.loads(body)["created_at"],
                                "type": "video.completed", "data": {"id": "video_1"}}
