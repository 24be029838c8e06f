"""The Python API and the command line: start/stop, URLs, environment."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from devstack.sandbox import SandboxCredentials, SandboxServer


def test_start_returns_listening_server_and_stop_closes_it() -> None:
    server = SandboxServer(port=0).start()
    try:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.url}/_sandbox/health").json()["status"] == "ok"
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/_sandbox/health", timeout=2)
    server.stop()  # stopping twice is harmless


def test_base_urls_are_documented_roots_under_the_sandbox(sandbox: SandboxServer) -> None:
    root = sandbox.url
    assert sandbox.base_urls() == {
        "CONVERTLOOP_BASE_URL": f"{root}/convertloop/v1",
        "LOOPS_BASE_URL": f"{root}/loops/api/v1",
        "CUSTOMERIO_BASE_URL": f"{root}/customerio/api/v1",
        # without account/integration: the client appends /{account}/{integration}/...
        "SEGMETRICS_BASE_URL": f"{root}/segmetrics/api/v1",
    }


def test_credentials_defaults_and_env() -> None:
    creds = SandboxCredentials()
    assert creds.convertloop_app_id == "sandbox-app"
    assert set(creds.as_env()) == {
        "CONVERTLOOP_APP_ID",
        "CONVERTLOOP_API_KEY",
        "LOOPS_API_KEY",
        "CUSTOMERIO_SITE_ID",
        "CUSTOMERIO_API_KEY",
        "SEGMETRICS_ACCOUNT_ID",
        "SEGMETRICS_INTEGRATION_ID",
        "SEGMETRICS_API_KEY",
    }
    assert all(creds.as_env().values())


def test_custom_credentials_are_enforced() -> None:
    creds = SandboxCredentials(loops_api_key="another-key")
    with SandboxServer(credentials=creds) as server:
        url = server.base_urls()["LOOPS_BASE_URL"] + "/contacts/update"
        body = {"email": "a@example.com"}
        with httpx.Client() as client:
            ok = client.put(url, json=body, headers={"Authorization": "Bearer another-key"})
            default = client.put(url, json=body, headers={"Authorization": "Bearer sandbox-loops-key"})
    assert ok.status_code == 200
    assert default.status_code == 401
    assert server.as_env()["LOOPS_API_KEY"] == "another-key"


def test_env_endpoint_gives_everything_a_bridge_needs(sandbox: SandboxServer, http: httpx.Client) -> None:
    assert http.get("/_sandbox/env").json() == sandbox.as_env()


def test_unknown_top_level_path_lists_the_vendor_roots(http: httpx.Client) -> None:
    response = http.get("/nope")
    assert response.status_code == 404
    assert response.json()["vendors"]["LOOPS_BASE_URL"] == "/loops/api/v1"


def test_command_line_runs_and_prints_the_environment() -> None:
    # As a context manager, Popen closes its pipe and waits for the process at the end.
    with subprocess.Popen(
        [sys.executable, "-m", "devstack.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            exports = {}
            # The server listens before it prints, so once the lines are read it is reachable.
            while len(exports) < len(SandboxServer().as_env()):  # one `export` line per setting
                line = process.stdout.readline()
                assert line, "sandbox exited early"
                name, _, value = line.removeprefix("export ").strip().partition("=")
                exports[name] = value
            assert exports["LOOPS_API_KEY"] == "sandbox-loops-key"
            health = httpx.get(exports["LOOPS_BASE_URL"].removesuffix("/loops/api/v1") + "/_sandbox/health", timeout=5)
            assert health.status_code == 200
        finally:
            process.terminate()
