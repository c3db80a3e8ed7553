"""What a container test reports besides its asserts: a missing piece of this machine (a skip, or a failure in
CI) and the seconds its steps took (test-artifacts/*-timings.json, which docs/deploy.md quotes)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def skip_or_fail(why: str | None) -> None:
    """Nothing when ``why`` is None; otherwise skip the test for that reason, or fail it when
    KIOSK_REQUIRE_SYSTEMD_TESTS is set (.ci/run: in CI a missing piece fails instead of skipping)."""
    if why:
        if os.environ.get("KIOSK_REQUIRE_SYSTEMD_TESTS"):
            pytest.fail(why)
        pytest.skip(why)


def timings(file_name: str) -> Callable[[str, float], None]:
    """``measured(name, seconds)``: each step's seconds kept in test-artifacts/``file_name``, written whole at
    every step (a run that stops half-way still leaves what it measured)."""
    found: dict[str, float] = {}

    def measured(name: str, seconds: float) -> None:
        found[name] = round(seconds, 2)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / file_name).write_text(json.dumps(found, indent=2) + "\n")

    return measured
