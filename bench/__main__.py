"""`python -m bench [NAME ...]`: run the benchmarks and rewrite bench/RESULTS.md as one table.

Each benchmark module has `run() -> list[dict]` (rows made with bench.stats.row). Results of a
benchmark not run this time are kept from the previous RESULTS.md, so one benchmark can be re-run alone.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import machine, today  # noqa: E402

BENCHMARKS = [
    "ratings",
    "queue",
    "printing",
    "announcer",
    "sync",
    "reports",
    "province",
    "startup",
    "catalog",
    "phone",
    "streams",
    "catalog_push",
    "ahead",
    "procedures",
    "console",
]
RESULTS = Path(__file__).with_name("RESULTS.md")
DATA_MARK = "<!-- results-data "


def _previous() -> dict[str, dict]:
    if not RESULTS.exists():
        return {}
    text = RESULTS.read_text(encoding="utf-8")
    if DATA_MARK not in text:
        return {}
    return json.loads(text.split(DATA_MARK, 1)[1].split(" -->", 1)[0])


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 1000 else f"{value:,.0f}"
    return str(value)


def write(results: dict[str, dict]) -> None:
    lines = [
        "# Benchmark results",
        "",
        "Regenerate with `python -m bench` (or `python -m bench ratings queue` for some). Targets are for the",
        "development machine named in each row; on a Raspberry Pi expect slower absolute numbers.",
        "",
        "| benchmark | metric | value | unit | target | comparison | machine | date |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in BENCHMARKS:
        entry = results.get(name)
        if not entry:
            lines.append(f"| {name} | not run yet | | | | | | |")
            continue
        for r in entry["rows"]:
            lines.append(
                f"| {r['benchmark']} | {r['metric']} | {_fmt(r['value'])} | {r['unit']} | {r['target']} | "
                f"{r['comparison']} | {entry['machine']} | {entry['date']} |"
            )
    lines += ["", *_notes(), f"{DATA_MARK}{json.dumps(results, ensure_ascii=False)} -->", ""]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")


NOTES_MARK = "## Notes"


def _notes() -> list[str]:
    """The hand-written notes below the table (from ``## Notes`` on), kept when the table is rewritten."""
    if not RESULTS.exists():
        return []
    text = RESULTS.read_text(encoding="utf-8").split(DATA_MARK, 1)[0]
    if NOTES_MARK not in text:
        return []
    return (NOTES_MARK + text.split(NOTES_MARK, 1)[1]).rstrip().split("\n") + [""]


def main(names: list[str]) -> int:
    results = _previous()
    failed = 0
    for name in names or BENCHMARKS:
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            rows = importlib.import_module(f"bench.{name}").run()
        except Exception:
            traceback.print_exc()
            failed += 1
            continue
        results[name] = {"rows": rows, "machine": machine(), "date": today()}
        for r in rows:
            print(f"  {r['metric']}: {_fmt(r['value'])} {r['unit']} {r['target']} {r['comparison']}")
        print(f"  ({time.monotonic() - started:.0f} s)")
        write(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
