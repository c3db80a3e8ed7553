"""Spoken calls: what a clerk's "next" pays for the announcer (nothing), and how soon the sound is ready;
and the citizen screens' spoken prompts: a clip made the first time, then served from the one kept.

Run: python bench/announcer.py   (or python -m bench announcer)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import row, summary_ms  # noqa: E402
from hardware.announcer import Announcer, render  # noqa: E402
from hardware.clips import ClipLibrary  # noqa: E402
from hardware.prompts import PromptVoice  # noqa: E402

N = 200


class Discard:
    """An output that only counts, so the numbers are the announcer's own work."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def play(self, wav: bytes, label: str) -> None:
        self.count += 1
        self.seconds = (len(wav) - 44) / 2 / 22050


def run() -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        library = ClipLibrary(Path(tmp) / "sounds")
        start = time.perf_counter()
        render(library, "A012", 1)  # cold: espeak-ng makes every clip this call needs
        cold = time.perf_counter() - start
        library.generate_all()
        warm_times = []
        for n in range(1, 101):
            start = time.perf_counter()
            render(library, f"B{n:03d}", n % 5 + 1)
            warm_times.append(time.perf_counter() - start)

        output = Discard()
        announcer = Announcer(output, library, max_pending=N)
        announce_times = []
        for n in range(N):
            start = time.perf_counter()
            announcer.announce(f"C{n:03d}", 2)
            announce_times.append(time.perf_counter() - start)
        announcer.flush(120)
        announcer.close()
    calls, warm = summary_ms(announce_times), summary_ms(warm_times)
    prompt_rows = prompts()
    return [
        row("announcer", "announce() returns (call never waits), median", calls["median"] * 1000, "µs", "< 1 ms"),
        row("announcer", "announce() returns, p99", calls["p99"] * 1000, "µs", "< 1 ms"),
        row("announcer", "first call on a fresh kiosk (espeak-ng makes its clips)", cold, "s"),
        row("announcer", "call joined from cached clips, median", warm["median"], "ms", "< 200 ms"),
        row("announcer", "call joined from cached clips, p95", warm["p95"], "ms"),
        row("announcer", "length of one spoken call (C199, quầy 2)", output.seconds, "s"),
        *prompt_rows,
    ]


def prompts() -> list[dict]:
    """What a touch on a citizen screen waits for before its words can play."""
    texts = [f"Dịch vụ số {n}: xin chạm vào đây" for n in range(20)]
    with tempfile.TemporaryDirectory() as tmp:
        voice = PromptVoice(Path(tmp) / "sounds", Path(tmp) / "sounds")
        cold = []
        for n, text in enumerate(texts):
            start = time.perf_counter()
            voice.clip(f"bench_{n}", text, "vi")
            cold.append(time.perf_counter() - start)
        kept = []
        for _ in range(10):
            for n, text in enumerate(texts):
                start = time.perf_counter()
                voice.clip(f"bench_{n}", text, "vi")
                kept.append(time.perf_counter() - start)
        intro = voice.clip("your_number", "Số thứ tự của ông/bà là", "vi")
        voice.number(intro, "A012", "vi")  # makes the number clips once
        numbers = []
        for n in range(1, 101):
            start = time.perf_counter()
            voice.number(intro, f"B{n:03d}", "vi")
            numbers.append(time.perf_counter() - start)
    cold_ms, kept_ms, number_ms = summary_ms(cold), summary_ms(kept), summary_ms(numbers)
    return [
        row("announcer", "spoken prompt, first request (espeak-ng makes it), median", cold_ms["median"], "ms"),
        row("announcer", "spoken prompt from its kept clip, median", kept_ms["median"] * 1000, "µs", "< 5 ms"),
        row("announcer", '"your queue number is B012" joined from clips, median', number_ms["median"], "ms", "< 50 ms"),
    ]


if __name__ == "__main__":
    for r in run():
        print(f"{r['metric']:60s} {r['value']:9.2f} {r['unit']:3s}  {r['target']}")
