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
