"""The suite on several processes (tests/parallel.py): the container tests never run at once, a module stays on one
worker in its own order, and the long modules are handed out first. Checked on a small suite of its own, run
by a real ``pytest -n 3`` as the README runs the real one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Each test writes down its worker, module and when it ran; the container ones take a while.
MODULE = """
import json, os, time, pytest
{marks}

@pytest.mark.parametrize("n", range(3))
def test_step(n, request):
    started = time.monotonic()
    time.sleep({seconds})
    with open(os.environ["RUNS_LOG"], "a") as log:
        log.write(json.dumps([os.environ["PYTEST_XDIST_WORKER"], request.node.nodeid, n, started, time.monotonic()]) + "\\n")
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> list[list]:
    """[worker, test id, step, started, ended] of every test of a small suite run with ``pytest -n 3``."""
    tmp_path = tmp_path_factory.mktemp("parallel")
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "pytest.ini").write_text("[pytest]\nmarkers =\n    systemd: x\n    slow: x\n    browser: x\n")
    (suite / "conftest.py").write_text('pytest_plugins = ["tests.parallel"]\n')
    boots = "pytestmark = pytest.mark.systemd"
    for name, marks, seconds in [("test_a_plain", "", 0.05), ("test_b_boots", boots, 0.4),
                                 ("test_c_plain", "", 0.05), ("test_d_slow", "pytestmark = pytest.mark.slow", 0.05),
                                 ("test_e_boots", boots, 0.4), ("test_f_plain", "", 0.05)]:  # fmt: skip
        (suite / f"{name}.py").write_text(MODULE.format(marks=marks, seconds=seconds))
    log = tmp_path / "runs.jsonl"
    env = {**os.environ, "RUNS_LOG": str(log), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "3", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "bt")],
        cwd=suite, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "18 passed" in done.stdout, done.stdout
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_container_tests_share_one_worker_and_modules_keep_their_order(runs):
    boots = [r for r in runs if "_boots" in r[1]]
    assert len({worker for worker, *_ in boots}) == 1, boots  # the machine kiosk-test: one worker, one at a time
    spans = sorted((start, end) for *_, start, end in boots)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:], strict=False)), spans
    for module in {r[1].split("::")[0] for r in runs}:
        mine = [r for r in runs if r[1].startswith(module + "::")]
        assert len({worker for worker, *_ in mine}) == 1, mine  # a module stays on one worker ...
        assert [n for _, _, n, *_ in sorted(mine, key=lambda r: r[3])] == [0, 1, 2], mine  # ... in its order


def test_the_long_modules_are_handed_out_first(runs):
    first = {}  # each worker's first module: the unit it was handed at the start
    for worker, nodeid, *_ in sorted(runs, key=lambda r: r[3]):
        first.setdefault(worker, nodeid.split("::")[0])
    assert set(first.values()) >= {"test_b_boots.py", "test_d_slow.py"}, first
