"""The real thing: `unionhall demo --no-serve`, then `unionhall serve` as its own process,
logged into over HTTP with the printed demo login."""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.conftest import free_port, run_cli


def _wait_for(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited early: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


def test_demo_then_serve_and_log_in_over_http(tmp_path: Path) -> None:
    env = {"UNIONHALL_DATA_DIR": str(tmp_path / "data")}
    prep = run_cli("demo", "--no-serve", *DEMO_SMALL, env=env, timeout=600)
    assert prep.returncode == 0, prep.stderr
    # The field program and an export are set up: a mail house has a delivery, one request waits.
    assert re.search(r"exports: EX-\d+ written for Piedmont Mail House \([\d,]+ people, \d+ seed records\); "
                     r"EX-\d+ waits for datamanager-clc", prep.stdout + prep.stderr), prep.stderr
    # The turnout model is judged on a held-out general against "voted in the last two generals".
    auc = re.search(r"held-out AUC (0\.\d+)\s+baseline \(voted in the last two generals\) (0\.\d+)", prep.stderr)
    assert auc, prep.stderr
    assert float(auc.group(1)) > float(auc.group(2))
    m = re.search(r"username (\S+)\s+password (\S+)", prep.stdout)
    assert m, prep.stdout
    username, password = m.group(1), m.group(2)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | env
    proc = subprocess.Popen(
        [sys.executable, "-m", "unionhall", "serve", "--port", str(port)],
        env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        _wait_for(f"{base}/healthz", proc)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login_page = opener.open(f"{base}/login/").read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page)
        assert token
        data = urllib.parse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1), "next": "/"}
        ).encode()
        req = urllib.request.Request(f"{base}/login/", data=data, headers={"Referer": f"{base}/login/"})
        home = opener.open(req)
        body = home.read().decode()
        assert home.geturl() == f"{base}/"
        assert "Recent jobs" in body
        assert "identity.match" in body  # the demo's last job
        assert "Registered voters" in body and "Members by affiliate" in body
        job_id = re.search(r'href="/jobs/(\d+)/"', body)
        assert job_id
        job_page = opener.open(f"{base}/jobs/{job_id.group(1)}/").read().decode()
        assert "Succeeded" in job_page
        schema = opener.open(f"{base}/api/schema/").read().decode()
        assert "openapi" in schema
        css = opener.open(f"{base}/static/unionhall/unionhall.css")
        assert css.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""


# Options that keep the demo's synthetic state small in tests (the default is state-sized).
DEMO_SMALL: list[str] = ["--voters", "3000", "--members", "500"]
