"""The real app in a real browser: each test module starts ``joi-coach`` itself and drives it
with Playwright in Debian's headless chromium.

``JOI_E2E_PYTHON`` picks the interpreter that runs the app (CI runs the memory-tab tests
once more with the host's gradio 4.37 this way); ``JOI_CHROMIUM`` the browser binary.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
READY = "Joi is ready at "
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def app_python() -> str:
    return os.environ.get("JOI_E2E_PYTHON") or sys.executable


def app_gradio_major() -> int:
    out = subprocess.run(
        [app_python(), "-c", "import gradio; print(gradio.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip().split(".")[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python -m joi_coach.app.cli`` as a child process, started and stopped like a user would."""

    def __init__(self, data_dir: Path, log_path: Path, *extra: str, python: str | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.extra = list(extra)
        self.python = python or app_python()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 300) -> AppServer:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0  # a restart appends
        with open(self.log_path, "a", encoding="utf-8") as log:  # the child keeps its own handle
            self.process = self._spawn(log, env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"joi-coach exited early:\n{self.log_tail()}")
            if READY in self.log_path.read_bytes()[offset:].decode("utf-8", errors="replace"):
                with urllib.request.urlopen(self.url, timeout=10) as response:
                    assert response.status == 200
                return self
            time.sleep(0.5)
        raise TimeoutError(f"joi-coach not ready in {timeout}s:\n{self.log_tail()}")

    def _spawn(self, log, env: dict) -> subprocess.Popen:
        command = [
            self.python,
            "-m",
            "joi_coach.app.cli",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
        ]
        return subprocess.Popen(
            [*command, *self.extra], stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("JOI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail(
            "Debian's chromium is needed for the browser tests: apt-get install chromium (scripts/install.sh does)"
        )
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def read_json_file(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
