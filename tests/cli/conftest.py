"""Run the real `fabless` entry point in a subprocess, as a user would."""

import os
import subprocess
import sys
from collections.abc import Callable

import pytest


def _fabless(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "from fabless.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture
def fabless() -> Callable[..., subprocess.CompletedProcess]:
    return _fabless


@pytest.fixture
def cli(monkeypatch, capsys) -> Callable[..., tuple[int, str, str]]:
    """Run `main()` in this process (so a test can patch a layer): exit code, stdout, stderr."""
    from fabless.cli.app import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["fabless", *args])
        try:
            main()
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 0
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
