"""Spoken calls: "⟨chime⟩ Mời công dân có số thứ tự A mười hai đến quầy số một", joined from recorded clips.

``announce()`` only queues the call, so a clerk's "next" never waits for the sound; one worker thread
builds each announcement from the clip folder and hands it to the output in order: ALSA (``aplay``) on
the device, ``.wav`` files in demo and tests, or nothing. Sound problems are logged, never raised to
the caller: a missing loudspeaker must not stop the queue.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Protocol

from hardware import audio
from hardware.clips import ClipLibrary, SpeechUnavailable
from hardware.errors import DeviceConfigError
from hardware.speech import announcement_groups, announcement_text

log = logging.getLogger(__name__)

GAP_AFTER_CHIME = 0.35
GAP_BETWEEN_PHRASES = 0.15
GAP_BETWEEN_WORDS = 0.03
TAIL = 0.3  # some USB sound cards cut the last samples off


class AnnouncerConfigError(DeviceConfigError):
    """The ``announcer`` setting names no known output."""


class Output(Protocol):
    def play(self, wav: bytes, label: str) -> None: ...


def plan(display_number: str, counter: int) -> list[str | float]:
    """Clip names with the seconds of silence between them: what one announcement is made of."""
    parts: list[str | float] = []
    for index, group in enumerate(announcement_groups(display_number, counter)):
        if index:
            parts.append(GAP_AFTER_CHIME if index == 1 else GAP_BETWEEN_PHRASES)
        for position, name in enumerate(group):
            if position:
                parts.append(GAP_BETWEEN_WORDS)
            parts.append(name)
    parts.append(TAIL)
    return parts


def render(library: ClipLibrary, display_number: str, counter: int) -> bytes:
    """The whole announcement as one WAV file (16-bit mono)."""
    parts = [part if isinstance(part, float) else library.load(part) for part in plan(display_number, counter)]
    return audio.wav_bytes(audio.join(parts))


class WavFiles:
    """Writes each announcement to ``folder`` (demo and tests): ``20250101-093000-0001-A012-quay1.wav``."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self._count = 0

    def play(self, wav: bytes, label: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._count += 1
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{self._count:04d}-{label}.wav"
        fd, tmp = tempfile.mkstemp(suffix=".part", dir=self.folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(wav)
        os.replace(tmp, path)

    def __repr__(self) -> str:
        return f"WavFiles({str(self.folder)!r})"


class Alsa:
    """Plays through ``aplay`` (alsa-utils) on ``device`` (e.g. ``plughw:1,0``), or ALSA's default device."""

    def __init__(self, device: str = "", aplay: str = "aplay") -> None:
        self.device = device
        self.aplay = aplay
        self._process: subprocess.Popen | None = None
        if shutil.which(aplay) is None:
            log.error("announcer: %s is not installed, calls will not be heard; install alsa-utils", aplay)

    def play(self, wav: bytes, label: str) -> None:
        executable = shutil.which(self.aplay)
        if executable is None:
            log.error("announcer: cannot play %s, %s is not installed (apt install alsa-utils)", label, self.aplay)
            return
        command = [executable, "-q", *(["-D", self.device] if self.device else []), "-"]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            _, err = self._process.communicate(wav, timeout=120)
        except subprocess.TimeoutExpired:
            self._process.kill()
            _, err = self._process.communicate()
        if self._process.returncode not in (0, -15):
            message = err.decode(errors="replace").strip()
            log.error("announcer: %s could not play %s on %s: %s", self.aplay, label, self.device or "default", message)
        self._process = None

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()

    def __repr__(self) -> str:
        return f"Alsa({self.device!r})"


class Announcer:
    """Queues calls and speaks them in order on one worker thread; ``output=None`` stays silent."""

    def __init__(self, output: Output | None, library: ClipLibrary, max_pending: int = 20) -> None:
        self.output = output
        self.library = library
        self.max_pending = max_pending
        self._pending: deque[tuple[str, int]] = deque()
        self._busy = False
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        if output is not None:
            self._thread.start()

    def announce(self, display_number: str, counter: int) -> None:
        """Queue one call and return at once."""
        with self._cond:
            if self.output is None or self._closed:
                return
            if len(self._pending) >= self.max_pending:
                dropped = self._pending.popleft()
                log.warning("announcer: %d calls waiting to be spoken, skipping %s", len(self._pending) + 1, dropped)
            self._pending.append((str(display_number), int(counter)))
            self._cond.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued call has been spoken; False if ``timeout`` ran out first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker: calls not yet spoken are dropped, the one playing is cut short."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()
        stop = getattr(self.output, "stop", None)
        if stop:
            stop()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._pending or self._closed)
                if self._closed:
                    return
                display_number, counter = self._pending.popleft()
                self._busy = True
            self._speak(display_number, counter)

    def _speak(self, display_number: str, counter: int) -> None:
        try:
            text = announcement_text(display_number, counter)
            wav = render(self.library, display_number, counter)
            log.info("announcer: %s", text)
            label = re.sub(r"[^A-Za-z0-9]", "", display_number) + f"-quay{counter}"
            self.output.play(wav, label)
        except SpeechUnavailable as exc:
            log.error("announcer: call of %s to counter %s not spoken: %s", display_number, counter, exc)
        except Exception:
            log.exception("announcer: call of %s to counter %s not spoken", display_number, counter)

    def __repr__(self) -> str:
        return f"Announcer({self.output!r})"


def make_announcer(
    spec: str, sound_dir: str | Path, generated_dir: str | Path, default_wav_dir: str | Path
) -> Announcer:
    """From the ``announcer`` setting: ``alsa[:DEVICE]``, ``wav[:DIR]`` or ``none``."""
    kind, _, arg = (spec or "").strip().partition(":")
    library = ClipLibrary(sound_dir, generated_dir)
    if kind == "none":
        return Announcer(None, library)
    if kind == "wav":
        return Announcer(WavFiles(arg or default_wav_dir), library)
    if kind == "alsa":
        return Announcer(Alsa(arg), library)
    raise AnnouncerConfigError(
        f"Setting announcer is {spec!r}; use alsa (or alsa:DEVICE such as alsa:plughw:1,0), wav:DIR, or none."
    )
