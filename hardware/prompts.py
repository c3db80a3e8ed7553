"""Spoken prompts of the citizen screens: short WAV clips the browser plays, for people who cannot read.

Each prompt has a key (``thanks``, ``level_satisfied``, ``service_HT``) and, per language, the words it says.
A commune may record its own voice as ``<sound_dir>/prompts/<lang>/<key>.wav``; otherwise the clip is made
with espeak-ng and kept as ``<generated_dir>/prompts/<voice>/<key>-<hash of the words>.wav``, so changed
wording (a renamed service) gets a new clip by itself; ``<generated_dir>/prompts/<lang>/prompts.txt`` lists
each prompt made so far with its words, for a commune that wants to record them. A queue number is said from the announcement clips
("a mười hai"), the same words the loudspeaker uses.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import threading
from pathlib import Path

from hardware import audio
from hardware.clips import ClipLibrary, SpeechUnavailable, synthesize
from hardware.speech import display_clips

log = logging.getLogger(__name__)

KEY = re.compile(r"^[a-z0-9_]{1,64}$", re.IGNORECASE)
LANG = re.compile(r"^[a-z]{2}$")
GAP = 0.25  # between the phrase and the number
INDEX = "prompts.txt"


class PromptVoice:
    """Finds or makes the clip of a prompt. Safe to call from several web threads."""

    def __init__(
        self, sound_dir: str | Path, generated_dir: str | Path, espeak: str = "espeak-ng", words_per_minute: int = 140
    ) -> None:
        self.sound_dir = Path(sound_dir)
        self.generated_dir = Path(generated_dir)
        self.espeak = espeak
        self.words_per_minute = words_per_minute
        self.numbers = ClipLibrary(self.sound_dir, self.generated_dir, espeak=espeak)
        self._lock = threading.Lock()

    def clip(self, key: str, text: str, lang: str, voice: str | None = None) -> Path:
        """The WAV file saying ``text`` for ``key`` in ``lang`` (a recording, else generated once)."""
        if not KEY.match(key) or not LANG.match(lang):
            raise ValueError(f"bad prompt key {key!r} or language {lang!r}")
        recorded = self.sound_dir / "prompts" / lang / f"{key}.wav"
        if recorded.is_file():
            return recorded
        voice = voice or lang
        digest = hashlib.sha1(f"{voice}\n{text}".encode()).hexdigest()[:10]
        path = self.generated_dir / "prompts" / voice / f"{key}-{digest}.wav"
        with self._lock:
            if not path.is_file():
                missing = f"prompt {key} ({text!r}) has no recording in {recorded.parent} and"
                pcm = synthesize(text, voice, self.words_per_minute, self.espeak, path.parent, missing)
                _write(path, audio.wav_bytes(pcm))
                log.info("generated spoken prompt %s (%s) with %s", path.name, text, self.espeak)
                self._list(lang, key, text)
        return path

    def _list(self, lang: str, key: str, text: str) -> None:
        """Keep ``prompts/<lang>/prompts.txt``: each prompt's file name and words, for a commune to record."""
        index = self.generated_dir / "prompts" / lang / INDEX
        entries: dict[str, str] = {}
        if index.is_file():
            for line in index.read_text(encoding="utf-8").splitlines():
                name, _, words = line.partition("\t")
                if words and not line.startswith("#"):
                    entries[name] = words
        entries[f"{key}.wav"] = text
        header = f"# Record these words as {self.sound_dir / 'prompts' / lang}/<file> to replace the generated voice."
        _write(index, "\n".join([header, *(f"{n}\t{w}" for n, w in sorted(entries.items()))]).encode() + b"\n")

    def number(self, intro: Path, display_number: str, lang: str) -> bytes:
        """The phrase ``intro`` then the queue number: "Số thứ tự của ông/bà là … a mười hai"."""
        if lang == "vi":
            spoken = [self.numbers.load(name) for name in display_clips(display_number)]
        else:
            words = re.sub(r"(\D+)(\d+)", lambda m: f"{' '.join(m.group(1))} {int(m.group(2))}", display_number)
            spoken = [synthesize(words, lang, self.words_per_minute, self.espeak, self.generated_dir / "prompts")]
        parts: list[audio.Pcm | float] = [audio.read_wav(intro), GAP]
        for index, pcm in enumerate(spoken):
            parts += [0.03] if index else []
            parts.append(pcm)
        return audio.wav_bytes(audio.join(parts + [0.2]))


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".part", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


__all__ = ["PromptVoice", "SpeechUnavailable"]
