"""API keys and where the server may listen."""

from __future__ import annotations

import subprocess
import sys

import httpx
import openai
import pytest
from server_helpers import KEY_A

from tenku.errors import TenkuError
from tenku.server.settings import ServerSettings, is_loopback


def test_missing_or_malformed_authorization_is_a_401_envelope(server):
    for headers in ({}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        r = httpx.get(f"{server.base_url}/videos", headers=headers)
        assert r.status_code == 401, headers
        assert r.json()["error"]["code"] == "invalid_api_key" and r.headers["x-request-id"].startswith("req_")
    r = httpx.get(f"{server.base_url}/videos", headers={"Authorization": f"Bearer {KEY_A}"})
    assert r.status_code == 200


def test_a_wrong_key_is_redacted_in_the_message(server):
    with pytest.raises(openai.AuthenticationError) as e:
        server.client("sk-this-is-secret-9999").videos.list()
    assert "sk-this-is-secret" not in e.value.message and "9999" in e.value.message


def test_without_keys_any_token_works_and_all_share_one_owner(make_server):
    srv = make_server()  # no keys: loopback only, open
    video = srv.client("whatever-1").videos.create(prompt="open", size="128x72")
    assert srv.client("another-token").videos.retrieve(video.id).id == video.id
    assert httpx.get(f"{srv.base_url}/videos/{video.id}").status_code == 200  # curl without a header works too


def test_keys_from_file_and_environment(tmp_path, monkeypatch):
    keys = tmp_path / "keys.txt"
    keys.write_text("# team keys\nsk-file-key-000001\n\nsk-file-key-000002  # ci\n")
    monkeypatch.setenv("TENKU_API_KEYS", "sk-env-key-0000001, sk-env-key-0000002")
    s = ServerSettings(api_keys_file=keys)
    assert s.load_api_keys() == ["sk-env-key-0000001", "sk-env-key-0000002", "sk-file-key-000001",
                                 "sk-file-key-000002"]
    (tmp_path / "empty.txt").write_text("# nothing\n")
    with pytest.raises(TenkuError, match="holds no keys"):
        ServerSettings(api_keys_file=tmp_path / "empty.txt").load_api_keys()
    with pytest.raises(TenkuError, match="no such file"):
        ServerSettings(api_keys_file=tmp_path / "missing.txt").load_api_keys()


def test_binding_rules():
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "example.com"))
    assert "loopback only" in ServerSettings(host="127.0.0.1").check_bind([])
    with pytest.raises(TenkuError, match="refusing to listen on 0.0.0.0 without API keys"):
        ServerSettings(host="0.0.0.0").check_bind([])
    assert "open to anyone" in ServerSettings(host="0.0.0.0", allow_public_without_keys=True).check_bind([])
    assert ServerSettings(host="0.0.0.0").check_bind(["sk-some-key-123"]) is None


def test_tenku_serve_refuses_a_public_bind_without_keys(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "tenku.cli", "serve", "--host", "0.0.0.0", "--generator", "fake", "--data-dir",
         str(tmp_path)],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert r.returncode == 2 and "refusing to listen on 0.0.0.0" in r.stderr and "Traceback" not in r.stderr


def test_webhook_urls_need_a_secret():
    with pytest.raises(ValueError, match="webhook-secret"):
        ServerSettings(webhook_urls=["http://127.0.0.1:1/hook"])
