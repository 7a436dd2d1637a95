"""Shared fixtures: a tiny original-layout directory and a tiny generated demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from aftershock_replication.data.demo import generate_demo
from helpers import FIXTURE_TEST, FIXTURE_TRAIN, TINY_DEMO, make_layout


@pytest.fixture
def original_layout(tmp_path: Path) -> Path:
    """A tiny original-layout directory: 6 slip models, one of them without aftershocks."""
    return make_layout(tmp_path / "original", FIXTURE_TRAIN, FIXTURE_TEST)


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo layout with 6 analysed slip models (+ the all-negative one)."""
    out = tmp_path_factory.mktemp("demo") / "raw"
    generate_demo(TINY_DEMO, out)
    return out
