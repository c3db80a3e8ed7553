"""Time to render a ticket and encode it as ESC/POS (median, p95), and the job's size, for 58 and 80 mm paper;
and a ticket from submit() to the spool file through the background worker.

Run: python bench/printing.py   (or python -m bench printing, which also updates bench/RESULTS.md)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402

N = 200
FONTS_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "fonts"
TICKET = {
    "commune": "UBND xã Nghĩa Thịnh, huyện Nghĩa Hưng",
    "display_number": "A012",
    "service": "Tư pháp – khác: chứng thực hợp đồng, giao dịch",
    "issued_at": datetime(2026, 11, 20, 8, 5),
    "waiting": 7,
    "qr_data": "http://192.168.1.10:8080/?counter=1&ticket=4b3c0d7e-1234-4c55-9a0b-8f2d1e3c4b5a",
    "qr_caption": "Quét mã để đánh giá sự hài lòng",
}


def render_and_encode(paper: str) -> tuple[list[float], list[float], list[float], int]:
    from hardware.printer import open_printer
    from hardware.printer.encode import encode_job

    printer = open_printer("none", paper, FONTS_DIR)
    for _ in range(10):  # warm up: fonts loaded once per process, as on a running kiosk
        encode_job(printer.render(TICKET), printer.width)
    render, encode, total = [], [], []
    size = 0
    for _ in range(N):
        start = time.perf_counter()
        image = printer.render(TICKET)
        drawn = time.perf_counter()
        data = encode_job(image, printer.width)
        done = time.perf_counter()
        render.append(drawn - start)
        encode.append(done - drawn)
        total.append(done - start)
        size = len(data)
    return render, encode, total, size


def submit_to_spool(n: int = 30) -> list[float]:
    """Ticket committed → submit() → the worker has written the spool files and recorded 'printed'."""
    from kiosk.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"data_dir": f"{tmp}/var", "gpio": "mock", "clock_sync": "yes"})
        kiosk = app.extensions["kiosk"]
        times = []
        try:
            for _ in range(n):
                ticket = kiosk.queue.issue("HT")
                start = time.perf_counter()
                kiosk.printing.submit(ticket.id)
                printed, error = kiosk.printing.wait(ticket.id, timeout=10)
                times.append(time.perf_counter() - start)
                assert printed, error
        finally:
            kiosk.close()
    return times


def run() -> list[dict]:
    rows = []
    for paper in ("58mm", "80mm"):
        render, encode, total, size = render_and_encode(paper)
        r, e, t = summary_ms(render), summary_ms(encode), summary_ms(total)
        rows += [
            row("printing", f"{paper}: render + encode one ticket, median", t["median"], "ms", "< 50 ms"),
            row("printing", f"{paper}: render + encode one ticket, p95", t["p95"], "ms"),
            row(
                "printing",
                f"{paper}: render (Pillow) / encode (escpos), median",
                r["median"],
                "ms",
                "",
                f"{e['median']:.1f} ms encode",
            ),
            row("printing", f"{paper}: ESC/POS job size", float(size), "bytes", "", f"{size / 1024:.0f} KiB"),
        ]
    spool = summary_ms(submit_to_spool())
    rows.append(row("printing", "submit → printed on the spool (worker), median", spool["median"], "ms"))
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:55s} {r['value']:10.2f} {r['unit']:5s}  {r['target']:10s} {r['comparison']}")
