"""``refvid keys …`` and ``refvid serve --dev-key`` as a user runs them."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from refvid.cli import app


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REFVID_HOME", str(tmp_path))
    return tmp_path


def test_keys_create_list_add_credits_revoke(home: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--name", "alice", "--credits", "12.5"])
    assert created.exit_code == 0, created.output
    key = created.stdout.splitlines()[0]
    assert re.fullmatch(r"rv_[A-Za-z0-9_-]{40,}", key)  # alone on its own line
    assert "webhook secret: whsec_" in created.stdout

    listed = runner.invoke(app, ["keys", "list"])
    assert "alice" in listed.stdout and "12.5" in listed.stdout and key not in listed.stdout
    added = runner.invoke(app, ["keys", "add-credits", "alice", "7.5"])
    assert added.exit_code == 0 and "balance: 20" in added.stdout
    too_much = runner.invoke(app, ["keys", "add-credits", "--", "alice", "-21"])
    assert too_much.exit_code == 2 and "below zero" in too_much.output
    bad = runner.invoke(app, ["keys", "add-credits", "alice", "lots"])
    assert bad.exit_code == 2 and "credits must be a number" in bad.output
    assert runner.invoke(app, ["keys", "revoke", "alice"]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["keys", "list"]).stdout
    unknown = runner.invoke(app, ["keys", "revoke", "bob"])
    assert unknown.exit_code == 2 and "no key 'bob'" in unknown.output


@pytest.mark.slow
def test_serve_with_dev_key_answers_and_keys_work_while_it_runs(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "REFVID_HOME": str(home), "REFVID_WORKERS": "0"}
    command = [sys.executable, "-c", "from refvid.cli import main; main()", "serve", "--dev-key", "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(2)]
        key = lines[1].strip()
        assert key.startswith("rv_")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        listed = requests.get(url + "/v2/requests", headers={"x-api-key": key})
        assert listed.status_code == 200 and listed.json()["data"] == []
        # The keys commands share the database with the running server.
        created = CliRunner().invoke(app, ["keys", "create", "--name", "live", "--credits", "1"])
        other = created.stdout.splitlines()[0]
        assert requests.get(url + "/v2/requests", headers={"x-api-key": other}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)
