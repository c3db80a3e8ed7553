"""The folder of recorded clips an announcement is built from, with espeak-ng to make the missing ones.

A commune may record its own voice: one WAV per clip name (``clips.txt`` in the generated folder lists each
file and the words to say) in ``sound_dir``. Any clip it lacks is taken from the generated folder, and any
clip missing there is generated with espeak-ng's Vietnamese voice on first use and kept for next time.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from hardware import audio
from hardware.errors import DeviceFault
from hardware.speech import CHIME, CLIP_TEXT

log = logging.getLogger(__name__)

INDEX = "clips.txt"


class SpeechUnavailable(DeviceFault):
    """A clip is missing and espeak-ng cannot make it."""


class ClipLibrary:
    def __init__(
        self,
        sound_dir: str | Path,
        generated_dir: str | Path | None = None,
        voice: str = "vi",
        words_per_minute: int = 140,
        espeak: str = "espeak-ng",
    ) -> None:
        self.sound_dir = Path(sound_dir)
        self.generated_dir = Path(generated_dir) if generated_dir else self.sound_dir
        self.voice = voice
        self.words_per_minute = words_per_minute
        self.espeak = espeak
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[tuple, audio.Pcm]] = {}

    def _dirs(self) -> list[Path]:
        return [self.sound_dir] + ([self.generated_dir] if self.generated_dir != self.sound_dir else [])

    def load(self, name: str) -> audio.Pcm:
        """The clip as 16-bit mono PCM: the commune's recording, else the generated one, else generate it now."""
        with self._lock:
            for folder in self._dirs():
                path = folder / f"{name}.wav"
                try:
                    stat = path.stat()
                except OSError:
                    continue
                key = (str(path), stat.st_mtime_ns, stat.st_size)
                cached = self._loaded.get(name)
                if cached and cached[0] == key:
                    return cached[1]
                try:
                    pcm = audio.read_wav(path)
                except (audio.AudioFormatError, OSError) as exc:
                    log.error("sound clip %s cannot be read (%s); using the generated voice instead", path, exc)
                    continue
                self._loaded[name] = (key, pcm)
                return pcm
            path = self._generate(name)
            pcm = audio.read_wav(path)
            stat = path.stat()
            self._loaded[name] = ((str(path), stat.st_mtime_ns, stat.st_size), pcm)
            return pcm

    def generate_all(self, force: bool = False) -> list[Path]:
        """Make every default clip that is missing from the generated folder (all of them with ``force``)."""
        made = []
        with self._lock:
            for name in [CHIME, *CLIP_TEXT]:
                if force or not (self.generated_dir / f"{name}.wav").exists():
                    made.append(self._generate(name))
            self.write_index()
        return made

    def write_index(self) -> Path:
        """``clips.txt``: each file a commune can replace and the words it must say."""
        lines = [
            "# One WAV per line: record these words and put the file in the folder of the sound_dir setting.",
            f"{CHIME}.wav\t(a short two-tone chime before each announcement)",
            *(f"{name}.wav\t{text}" for name, text in CLIP_TEXT.items()),
        ]
        path = self.generated_dir / INDEX
        self.generated_dir.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _generate(self, name: str) -> Path:
        if name == CHIME:
            return self._write(name, audio.chime())
        if name not in CLIP_TEXT:
            raise SpeechUnavailable(f"no clip named {name!r} and no words known for it")
        missing = f"sound clip {name}.wav is missing from {self.sound_dir} and"
        pcm = synthesize(CLIP_TEXT[name], self.voice, self.words_per_minute, self.espeak, self.generated_dir, missing)
        log.info("generated sound clip %s.wav (%s) with %s", name, CLIP_TEXT[name], self.espeak)
        return self._write(name, pcm)

    def _write(self, name: str, pcm: audio.Pcm) -> Path:
        """Atomic write, so a kiosk and `kiosk sounds` running together never read half a file."""
        self.generated_dir.mkdir(parents=True, exist_ok=True)
        path = self.generated_dir / f"{name}.wav"
        fd, tmp = tempfile.mkstemp(suffix=".part", dir=self.generated_dir)
        with os.fdopen(fd, "wb") as fh:
            fh.write(audio.wav_bytes(pcm))
        os.replace(tmp, path)
        return path


def synthesize(
    text: str,
    voice: str,
    words_per_minute: int,
    espeak: str,
    workdir: Path,
    missing: str = "a spoken text is missing and",
) -> audio.Pcm:
    """``text`` said by espeak-ng in ``voice``, with the silence around it cut; SpeechUnavailable if it cannot."""
    executable = shutil.which(espeak)
    if executable is None:
        raise SpeechUnavailable(
            f"{missing} {espeak} is not installed: install it (apt install espeak-ng) or record the clip "
            f"({INDEX} lists the words)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    fd, raw = tempfile.mkstemp(suffix=".wav", dir=workdir)
    os.close(fd)
    try:
        command = [executable, "-v", voice, "-s", str(words_per_minute), "-w", raw, text]
        done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        if done.returncode != 0:
            raise SpeechUnavailable(f"{espeak} failed to say {text!r}: {done.stderr.strip()}")
        return audio.trim(audio.read_wav(raw))
    except subprocess.TimeoutExpired as exc:
        raise SpeechUnavailable(f"{espeak} took too long to say {text!r}") from exc
    finally:
        Path(raw).unlink(missing_ok=True)
