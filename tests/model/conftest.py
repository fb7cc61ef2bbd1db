"""Shared fixtures: the shipped models are loaded once per session, they take seconds."""

import pytest

from fabless.model.checkpoint import Checkpoint, load_checkpoint


@pytest.fixture(scope="session")
def smollm2() -> Checkpoint:
    return load_checkpoint("smollm2-135m")


@pytest.fixture(scope="session")
def minilm() -> Checkpoint:
    return load_checkpoint("minilm-l6")
