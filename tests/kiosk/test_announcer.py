"""Spoken calls: the Vietnamese words, the clips they are joined from, espeak-ng, and the worker thread."""

from __future__ import annotations

import logging
import math
import shutil
import struct
import threading
import wave
from pathlib import Path

import pytest
from num2words import num2words

from common.errors import ConfigError
from hardware.announcer import GAP_AFTER_CHIME, TAIL, Alsa, Announcer, WavFiles, plan, render
from hardware.clips import ClipLibrary
from hardware.speech import CLIP_TEXT, announcement_text, clip_sequence, display_words, number_words
from kiosk.app import create_app


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """The default clips, generated once for this module by the real espeak-ng."""
    folder = tmp_path_factory.mktemp("sounds")
    ClipLibrary(folder).generate_all()
    return folder


def frames(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getnframes()


def frames_of(wav: bytes) -> int:
    return (len(wav) - 44) // 2  # 16-bit mono after the 44-byte header the wave module writes


def tone(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> None:
    """A commune's own recording, in another format than the generated clips (44.1 kHz stereo)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        for i in range(round(seconds * rate)):
            value = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
            w.writeframes(struct.pack("<" + "h" * channels, *[value] * channels))


class BlockingOutput:
    """A loudspeaker that does not finish playing until the test says so."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.played: list[tuple[str, bytes]] = []

    def play(self, wav: bytes, label: str) -> None:
        self.started.set()
        assert self.release.wait(10)
        self.played.append((label, wav))


# --- what is said -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, words",
    [
        (5, "năm"),
        (10, "mười"),
        (12, "mười hai"),
        (15, "mười lăm"),
        (21, "hai mươi mốt"),
        (24, "hai mươi bốn"),
        (105, "một trăm lẻ năm"),
        (1000, "một nghìn"),
        (1005, "một nghìn không trăm lẻ năm"),
        (1024, "một nghìn không trăm hai mươi bốn"),  # num2words says "một nghìn lẻ hai mươi bốn"
    ],
)
def test_numbers_are_said_as_vietnamese_words(n, words):
    assert " ".join(number_words(n)) == words


def test_below_a_thousand_the_words_agree_with_num2words():
    assert [n for n in range(1000) if " ".join(number_words(n)) != num2words(n, lang="vi")] == []


def test_a_ticket_number_is_said_without_its_leading_zeros_and_with_its_letter_named():
    assert display_words("A012") == ["a", "mười", "hai"]
    assert display_words("012") == ["mười", "hai"]
    assert display_words("B005") == ["bê", "năm"]
    assert display_words("C021") == ["xê", "hai", "mươi", "mốt"]
    assert display_words("F105") == ["ép", "một", "trăm", "lẻ", "năm"]
    with pytest.raises(ValueError):
        display_words("--")


def test_announcement_text():
    assert announcement_text("A012", 1) == "Mời công dân có số thứ tự a mười hai đến quầy số một"
    assert announcement_text("D021", 15) == "Mời công dân có số thứ tự dê hai mươi mốt đến quầy số mười lăm"


@pytest.mark.parametrize(
    "display, counter, clips",
    [
        ("A005", 1, ["letter_a", "nam", "|", "mot"]),
        ("B010", 2, ["letter_b", "muoi", "|", "hai"]),
        ("C012", 3, ["letter_c", "muoi", "hai", "|", "ba"]),
        ("D021", 21, ["letter_d", "hai", "muoi_ngang", "mot_sac", "|", "hai", "muoi_ngang", "mot_sac"]),
        ("105", 10, ["mot", "tram", "le", "nam", "|", "muoi"]),
    ],
)
def test_clip_sequence(display, counter, clips):
    ticket, _, desk = " ".join(clips).partition(" | ")
    expected = ["chime", "moi_cong_dan_co_so_thu_tu", *ticket.split(), "den_quay_so", *desk.split()]
    assert clip_sequence(display, counter) == expected
    assert all(name == "chime" or name in CLIP_TEXT for name in expected)


# --- the clips and the joined sound -----------------------------------------------------------------------


def test_espeak_ng_generates_every_default_clip(generated):
    for name in ["chime", *CLIP_TEXT]:
        with wave.open(str(generated / f"{name}.wav"), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050), name
            seconds = w.getnframes() / w.getframerate()
            loudest = max(abs(v) for v in struct.unpack(f"<{w.getnframes()}h", w.readframes(w.getnframes())))
        assert 0.1 < seconds < 3.5, (name, seconds)
        assert loudest > 1000, f"{name}.wav is silent"
    index = (generated / "clips.txt").read_text(encoding="utf-8")
    assert "moi_cong_dan_co_so_thu_tu.wav\tMời công dân có số thứ tự" in index
    assert "muoi_ngang.wav\tmươi" in index


def test_joined_call_is_a_wav_as_long_as_its_clips_and_gaps(generated, tmp_path):
    out = tmp_path / "call.wav"
    out.write_bytes(render(ClipLibrary(generated), "A012", 3))
    parts = plan("A012", 3)
    expected = sum(frames(generated / f"{p}.wav") if isinstance(p, str) else round(p * 22050) for p in parts)
    with wave.open(str(out), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert abs(w.getnframes() - expected) <= len(parts)
    # the chime opens the call, then the gap before the words
    assert parts[:3] == ["chime", GAP_AFTER_CHIME, "moi_cong_dan_co_so_thu_tu"] and parts[-1] == TAIL


def test_a_communes_own_recording_is_used_whatever_its_format(generated, tmp_path):
    own = tmp_path / "own"
    own.mkdir()
    tone(own / "den_quay_so.wav", 0.5)  # 44.1 kHz stereo, converted to the generated clips' format
    default = render(ClipLibrary(generated), "A012", 3)
    custom = render(ClipLibrary(own, generated), "A012", 3)
    difference = frames_of(default) - frames_of(custom)
    assert abs(difference - (frames(generated / "den_quay_so.wav") - 0.5 * 22050)) <= 2


def test_a_missing_clip_is_made_with_espeak_ng(tmp_path, generated):
    own, cache = tmp_path / "own", tmp_path / "generated"
    own.mkdir()
    shutil.copy(generated / "moi_cong_dan_co_so_thu_tu.wav", own)  # the commune recorded only the intro
    wav = render(ClipLibrary(own, cache), "B021", 2)
    assert frames_of(wav) > 3 * 22050
    made = sorted(p.stem for p in cache.glob("*.wav"))
    assert made == sorted(["chime", "letter_b", "hai", "muoi_ngang", "mot_sac", "den_quay_so"])
    assert not (cache / "moi_cong_dan_co_so_thu_tu.wav").exists()


def test_without_espeak_ng_the_call_is_skipped_with_a_clear_error(tmp_path, caplog):
    announcer = Announcer(WavFiles(tmp_path / "calls"), ClipLibrary(tmp_path / "sounds", espeak="no-espeak-here"))
    with caplog.at_level(logging.ERROR, logger="hardware.announcer"):
        announcer.announce("A001", 1)
        assert announcer.flush(10)
    announcer.close()
    assert not (tmp_path / "calls").exists()
    assert "A001" in caplog.text and "no-espeak-here is not installed" in caplog.text


# --- the worker thread and the outputs --------------------------------------------------------------------


def test_announce_returns_before_the_sound_and_calls_are_spoken_in_order(generated):
    output = BlockingOutput()
    announcer = Announcer(output, ClipLibrary(generated))
    try:
        announcer.announce("A001", 1)
        announcer.announce("A002", 2)
        announcer.announce("B003", 1)  # all three returned while the first is still being "played"
        assert output.started.wait(10)
        assert output.played == []
        assert announcer.flush(0.05) is False
        output.release.set()
        assert announcer.flush(10)
        assert [label for label, _ in output.played] == ["A001-quay1", "A002-quay2", "B003-quay1"]
    finally:
        output.release.set()
        announcer.close()


def test_close_stops_the_worker_and_drops_what_was_not_said(generated):
    output = BlockingOutput()
    announcer = Announcer(output, ClipLibrary(generated))
    announcer.announce("A001", 1)
    announcer.announce("A002", 1)
    assert output.started.wait(10)
    announcer.close(timeout=0)  # while A001 is playing: A002 is dropped
    output.release.set()
    announcer._thread.join(10)
    assert not announcer._thread.is_alive()
    announcer.announce("A003", 1)
    assert [label for label, _ in output.played] == ["A001-quay1"]


def test_alsa_output_pipes_the_call_to_aplay_on_the_configured_device(generated, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aplay = bin_dir / "aplay"
    aplay.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/args\ncat > {tmp_path}/played.wav\n')
    aplay.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    announcer = Announcer(Alsa("plughw:1,0"), ClipLibrary(generated))
    announcer.announce("C012", 2)
    assert announcer.flush(10)
    announcer.close()
    assert (tmp_path / "args").read_text().split() == ["-q", "-D", "plughw:1,0", "-"]
    assert frames(tmp_path / "played.wav") > 3 * 22050


def test_alsa_without_aplay_logs_and_does_not_raise(generated, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PATH", str(tmp_path))
    with caplog.at_level(logging.ERROR, logger="hardware.announcer"):
        announcer = Announcer(Alsa(), ClipLibrary(generated))
        announcer.announce("A001", 1)
        assert announcer.flush(10)
        announcer.close()
    assert "aplay is not installed" in caplog.text


# --- wired into the kiosk ---------------------------------------------------------------------------------


def test_a_ticket_called_event_is_written_as_a_wav_file(app, kiosk, tmp_path):
    announcer = kiosk.hardware["announcer"]
    assert isinstance(announcer.output, WavFiles)
    calls = Path(kiosk.settings["data_dir"]).resolve() / "announcements"
    kiosk.events.publish("ticket_issued", {"id": "x", "display_number": "A012", "service": "HT", "position": 1})
    data = {"id": "x", "display_number": "A012", "number": 12, "service": "HT", "counter": 2, "clerk": "Lan"}
    kiosk.events.publish("ticket_called", {**data, "recall": False})
    kiosk.events.publish("ticket_called", {**data, "recall": True})  # a recall is spoken again
    assert announcer.flush(15)
    files = sorted(calls.glob("*.wav"))
    assert [f.name.split("-", 3)[-1] for f in files] == ["A012-quay2.wav", "A012-quay2.wav"]
    assert all(frames(f) > 3 * 22050 for f in files)


def test_announcer_setting_chooses_the_output(tmp_path):
    app = create_app({"data_dir": str(tmp_path / "a"), "gpio": "mock", "announcer": "wav"})
    kiosk = app.extensions["kiosk"]
    try:
        assert kiosk.hardware["announcer"].output.folder == (tmp_path / "a" / "announcements").resolve()
    finally:
        kiosk.close()
    app = create_app({"data_dir": str(tmp_path / "b"), "gpio": "mock", "announcer": "none"})
    kiosk = app.extensions["kiosk"]
    kiosk.events.publish("ticket_called", {"display_number": "A001", "counter": 1})
    kiosk.close()
    assert not (tmp_path / "b" / "announcements").exists()
    with pytest.raises(ConfigError, match="alsa"):
        create_app({"data_dir": str(tmp_path / "c"), "gpio": "mock", "announcer": "speaker"})


def test_kiosk_sounds_command_generates_the_clips_and_a_sample_call(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kiosk.cli import main

    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(main, ["sounds", "--say", "B105", "--counter", "21"], obj={})
    assert result.exit_code == 0, result.output
    sounds = tmp_path / "var" / "sounds"
    assert len(list(sounds.glob("*.wav"))) == len(CLIP_TEXT) + 1
    sample = tmp_path / "var" / "announcements" / "try-B105-quay21.wav"
    assert sample.exists() and str(sample) in result.output
