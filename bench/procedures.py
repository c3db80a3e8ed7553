"""A province's procedures: importing a province-sized list (400 procedures, six papers each) with
`kiosk-central import-procedures`' code (read and check the CSV, replace the list in one transaction) on SQLite,
and building the signed document a kiosk takes down.

Run: ``python bench/procedures.py`` (or ``python -m bench procedures`` to update bench/RESULTS.md).
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

COUNT = 400
ROUNDS = 5


def write_csv(path: Path, count: int = COUNT) -> None:
    """A province-sized list: ``count`` procedures over the six default fields, six papers each."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["code", "service", "name", "papers", "forms", "fee", "days", "result_at"])
        for i in range(count):
            papers = "; ".join(f"Giấy tờ số {k} của thủ tục hành chính số {i} * {1 + k % 3}" for k in range(6))
            service = "HT CT DD BT NCC TP".split()[i % 6]
            writer.writerow(
                [
                    f"1.{i:06d}",
                    service,
                    f"Thủ tục hành chính cấp xã số {i}",
                    papers,
                    f"Tờ khai số {i}",
                    "Miễn lệ phí",
                    i % 15,
                    "Bộ phận Một cửa UBND xã",
                ]
            )


def run() -> list[dict]:
    from central.app import build_central
    from central.procedures import build_document, import_procedures, read_file
    from central.registry import add_commune, add_province
    from common import settings as settings_mod
    from common.db import transaction

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        path = data / "province.csv"
        write_csv(path)
        central = build_central(
            settings_mod.load(overrides={"data_dir": str(data), "central_database_url": f"sqlite:///{data / 'c.db'}"})
        )
        add_province(central, "79", "Thành phố Hồ Chí Minh")
        add_commune(central, "26734", "Xã Tân Hòa", None, "79")
        imports, documents = [], []
        try:
            for _ in range(ROUNDS):
                started = time.perf_counter()
                items = read_file(path)
                with transaction(central.sessions) as session:
                    import_procedures(session, "79", items, central.clock.now())
                imports.append(time.perf_counter() - started)
                started = time.perf_counter()
                with central.sessions() as session:
                    doc = build_document(session, "26734")
                documents.append(time.perf_counter() - started)
        finally:
            central.close()
        assert len(doc["procedures"]) == COUNT
    imported, built = summary_ms(imports), summary_ms(documents)
    return [
        row("procedures", f"import {COUNT} procedures (CSV, SQLite), median", imported["median"], "ms", "< 5 s"),
        row("procedures", f"document of {COUNT} procedures for a kiosk, median", built["median"], "ms", "< 1 s"),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
