"""`python -m bench` keeps one table: every benchmark module answers rows, the table keeps unrun results."""

from __future__ import annotations

import importlib
import inspect

import pytest

import bench.__main__ as runner
from bench.stats import row


@pytest.mark.parametrize("name", runner.BENCHMARKS)
def test_every_benchmark_module_answers_rows(name):
    module = importlib.import_module(f"bench.{name}")
    assert callable(getattr(module, "run", None)), f"bench/{name}.py needs run() -> list[dict] of bench.stats.row"
    required = [p for p in inspect.signature(module.run).parameters.values() if p.default is inspect.Parameter.empty]
    assert not required, "run() must work without arguments: `python -m bench` calls it bare"
    source = inspect.getsource(module)
    assert 'RESULTS.md", "a"' not in source and '.open("a"' not in source, "write rows, not text into RESULTS.md"


def test_the_table_is_rewritten_with_new_rows_and_keeps_the_others(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "RESULTS", tmp_path / "RESULTS.md")
    old = {"rows": [row("queue", "ticket issue", 512.0, "tickets/s", "≥ 400")], "machine": "m1", "date": "2026-01-01"}
    runner.write({"queue": old})
    fake = type("M", (), {"run": staticmethod(lambda: [row("ratings", "press → durable, p99", 1.5, "ms", "< 20 ms")])})
    monkeypatch.setattr(runner.importlib, "import_module", lambda name: fake)
    assert runner.main(["ratings"]) == 0
    table = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert "| ratings | press → durable, p99 | 1.50 | ms | < 20 ms |" in table
    assert "| queue | ticket issue | 512.00 | tickets/s | ≥ 400 |  | m1 | 2026-01-01 |" in table
    assert table.count("| benchmark | metric |") == 1
    assert all(f"| {name} |" in table for name in runner.BENCHMARKS)
