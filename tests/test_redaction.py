"""Secrets are removed from recorded settings by value as well as by key; counts such as max_tokens stay."""

from __future__ import annotations

import json
from pathlib import Path

from sourcebook.api import make_settings as settings_with
from sourcebook.config import get_settings
from sourcebook.records.run_dir import RunDir, redact, redact_text

SECRETS = ["pw-in-url", "url-key-123", "SERPKEY123", "flag-tok-9", "s3cr3t-env", "ghp_abcdefghij1234567890",
           "hdr-secret-7", "sk-live-abcdefghijkl", "sig-abc", "bearer-xyz"]


def _settings():
    return get_settings(
        llm={"base_url": "https://alice:pw-in-url@llm.example/v1?api-key=url-key-123&mode=fast",
             "api_key": "sk-live-abcdefghijkl", "max_tokens": 1234, "model": "m"},
        mcp_servers={"serper": {"command": "npx",
                                "args": ["-y", "serper-mcp", "--api-key", "SERPKEY123", "--token=flag-tok-9",
                                         "--port", "3000"],
                                "env": {"SERPER_KEY": "s3cr3t-env", "GITHUB_PAT": "ghp_abcdefghij1234567890",
                                        "PATH_HINT": ""},
                                "url": "http://127.0.0.1:3000/mcp?sig=sig-abc",
                                "headers": {"X-Custom": "hdr-secret-7", "Authorization": "Bearer bearer-xyz"}}},
    )


def test_config_json_holds_no_secret(tmp_path: Path):
    rd = RunDir.create(tmp_path / "runs", tmp_path, "request", _settings())
    text = (rd.path / "config.json").read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in text, secret
    cfg = json.loads(text)
    assert cfg["llm"]["max_tokens"] == 1234
    assert cfg["llm"]["base_url"] == "https://***@llm.example/v1?api-key=***&mode=fast"
    server = cfg["mcp_servers"]["serper"]
    assert server["args"] == ["-y", "serper-mcp", "--api-key", "***", "--token=***", "--port", "3000"]
    assert server["env"] == {"SERPER_KEY": "***", "GITHUB_PAT": "***", "PATH_HINT": ""}
    assert server["command"] == "npx"
    # resume takes the recorded numbers back
    assert settings_with(base=cfg["llm"]).llm.max_tokens == 1234


def test_redact_keeps_harmless_values():
    data = {"max_tokens": 10, "timeout_s": 3.5, "tokenizer": "jieba", "dense": True, "authors": ["Ann"],
            "url": "https://example.org/a?page=2", "path": "/data/notes-sk.txt", "author": "Bo"}
    assert redact(data) == data


def test_redact_text_shapes():
    assert redact_text("postgres://u:p@db:5432/x") == "postgres://***@db:5432/x"
    assert redact_text("see https://h/x?token=abc&access_token=def#frag") == "see https://h/x?token=***&access_token=***#frag"
    assert redact_text("--password:hunter2") == "--password:***"
    assert redact_text("key sk-ant-api03-abcdefghijk here") == "key *** here"
