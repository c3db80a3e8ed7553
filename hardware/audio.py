"""Sound as plain 16-bit mono PCM: read any PCM WAV, convert it, join clips with silences, synthesise the chime.

Standard library only (``wave`` and ``array``), so it runs the same on a Pi and in CI. A commune's own
recordings may come at 44.1 kHz stereo or 24-bit; everything is converted to one format before joining.
"""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

from hardware.errors import DeviceConfigError

RATE = 22050  # espeak-ng's native rate: generated clips need no resampling


class AudioFormatError(DeviceConfigError):
    """A clip is not a PCM WAV file this module can read."""


@dataclass(frozen=True)
class Pcm:
    """Mono signed 16-bit samples at ``rate`` Hz."""

    samples: array
    rate: int = RATE

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def _to_int16(raw: bytes, width: int) -> array:
    if width == 2:
        samples = array("h", raw)
        if sys.byteorder == "big":
            samples.byteswap()
        return samples
    if width == 1:  # unsigned 8-bit
        return array("h", ((b - 128) << 8 for b in raw))
    if width in (3, 4):  # keep the top 16 bits of each little-endian sample
        return array(
            "h",
            (int.from_bytes(raw[i + width - 2 : i + width], "little", signed=True) for i in range(0, len(raw), width)),
        )
    raise AudioFormatError(f"{width * 8}-bit samples are not supported")


def _mono(samples: array, channels: int) -> array:
    if channels == 1:
        return samples
    return array("h", (sum(samples[i : i + channels]) // channels for i in range(0, len(samples), channels)))


def resample(samples: array, rate: int, target: int = RATE) -> array:
    """Linear interpolation: plenty for speech clips, and no dependency."""
    if rate == target or not samples:
        return samples
    count = max(1, round(len(samples) * target / rate))
    step = rate / target
    last = len(samples) - 1
    out = array("h", bytes(2 * count))
    for i in range(count):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = samples[last]
        else:
            frac = pos - j
            out[i] = int(samples[j] + (samples[j + 1] - samples[j]) * frac)
    return out


def read_wav(source: str | Path | bytes, rate: int = RATE) -> Pcm:
    """Any PCM WAV (8/16/24/32-bit, mono or stereo, any rate) → mono 16-bit at ``rate``."""
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), "rb") as w:
            channels, width, src_rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as exc:
        raise AudioFormatError(
            f"{source if not isinstance(source, bytes) else 'data'} is not a PCM WAV file ({exc})"
        ) from exc
    return Pcm(resample(_mono(_to_int16(raw, width), channels), src_rate, rate), rate)


def wav_bytes(pcm: Pcm) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        samples = pcm.samples
        if sys.byteorder == "big":
            samples = array("h", samples)
            samples.byteswap()
        w.writeframes(samples.tobytes())
    return buffer.getvalue()


def silence(seconds: float, rate: int = RATE) -> array:
    return array("h", bytes(2 * round(seconds * rate)))


def join(parts: list[Pcm | float], rate: int = RATE) -> Pcm:
    """Concatenate clips; a float in ``parts`` is that many seconds of silence."""
    out = array("h")
    for part in parts:
        if isinstance(part, Pcm):
            out.extend(part.samples if part.rate == rate else resample(part.samples, part.rate, rate))
        else:
            out.extend(silence(part, rate))
    return Pcm(out, rate)


def trim(pcm: Pcm, threshold: int = 200, margin: float = 0.02) -> Pcm:
    """Cut the silence espeak-ng leaves around a word (about 0.3 s at the end) so joined words flow."""
    samples = pcm.samples
    start = next((i for i, value in enumerate(samples) if abs(value) > threshold), None)
    if start is None:
        return pcm
    end = next(i for i in range(len(samples) - 1, -1, -1) if abs(samples[i]) > threshold)
    pad = round(margin * pcm.rate)
    return Pcm(samples[max(0, start - pad) : end + pad + 1], pcm.rate)


def chime(rate: int = RATE) -> Pcm:
    """A two-tone "ding-dong" (E5 then C5, each with a soft overtone and a bell-like decay)."""
    out = array("h")
    for freq, seconds in ((659.25, 0.55), (523.25, 0.8)):
        count = round(seconds * rate)
        attack = round(0.01 * rate)
        for i in range(count):
            t = i / rate
            envelope = min(1.0, i / attack) * math.exp(-4.0 * t)
            value = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(int(12000 * envelope * value))
    return Pcm(out, rate)
