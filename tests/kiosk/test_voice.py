"""Spoken prompts on the citizen screens, for people who cannot read: real espeak-ng clips served by the kiosk,
a commune's own recordings first, muted by `spoken_prompts = false`; in Chromium, a step's prompt when the step
appears and a button's meaning at its first touch."""

from __future__ import annotations

import io
import shutil
import wave

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from kiosk.db import transaction
from kiosk.models import Service
from tests.queue_helpers import issue, make_app
from tests.server import KioskServer

pytestmark = [
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
    pytest.mark.staffed(),
]


def seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)
        return w.getnframes() / w.getframerate()


def test_prompts_are_wav_clips_made_by_espeak_ng_and_kept(app, tmp_path):
    client = app.test_client()
    thanks = client.get("/voice/vi/thanks.wav")
    assert thanks.status_code == 200 and thanks.mimetype == "audio/wav"
    assert 0.5 < seconds(thanks.data) < 5  # "Cảm ơn ông/bà đã đánh giá!"
    made = list((tmp_path / "var" / "sounds" / "prompts" / "vi").glob("thanks-*.wav"))
    assert len(made) == 1  # generated once, kept for the next time
    assert client.get("/voice/vi/thanks.wav").data == thanks.data
    english = client.get("/voice/en/thanks.wav")
    assert english.status_code == 200 and english.data != thanks.data
    for key in ("rate", "level_very_satisfied", "q_time", "a_time_0", "chip_3", "service_HT", "priority", "send"):
        assert client.get(f"/voice/vi/{key}.wav").status_code == 200, key
    listed = (tmp_path / "var" / "sounds" / "prompts" / "vi" / "prompts.txt").read_text(encoding="utf-8")
    assert "thanks.wav\tCảm ơn ông/bà đã đánh giá!" in listed and "service_HT.wav\tHộ tịch" in listed


def test_only_the_screens_prompts_can_be_spoken(app):
    client = app.test_client()
    assert client.get("/voice/vi/anything-else.wav").status_code == 404
    assert client.get("/voice/vi/level_excellent.wav").status_code == 404
    assert client.get("/voice/fr/thanks.wav").status_code == 404
    assert client.get("/voice/vi/ticket/not-a-ticket.wav").status_code == 404


def test_a_communes_recording_wins_and_a_renamed_service_gets_a_new_clip(app, tmp_path):
    client = app.test_client()
    recorded = tmp_path / "var" / "sounds" / "prompts" / "vi" / "thanks.wav"
    recorded.parent.mkdir(parents=True, exist_ok=True)
    recorded.write_bytes(client.get("/voice/en/done.wav").data)  # any real WAV stands for a recording
    assert client.get("/voice/vi/thanks.wav").data == recorded.read_bytes()

    before = client.get("/voice/vi/service_HT.wav").data
    with transaction(app.extensions["kiosk"].sessions) as session:
        session.execute(update(Service).where(Service.code == "HT").values(name="Hộ tịch và chứng thực"))
    app.extensions["kiosk"].queue.tickets.reload()  # as after an admin edit
    after = client.get("/voice/vi/service_HT.wav").data
    assert after != before and seconds(after) > seconds(before)


def test_the_ticket_number_is_said_in_words(app):
    client = app.test_client()
    ticket = issue(client)
    intro = seconds(client.get("/voice/vi/your_number.wav").data)
    spoken = client.get(f"/voice/vi/ticket/{ticket['id']}.wav")
    assert spoken.status_code == 200
    assert seconds(spoken.data) > intro + 0.5  # "… a một"


def test_the_setting_mutes_every_prompt(tmp_path, clock):
    app = make_app(tmp_path / "var", clock, spoken_prompts=False)
    try:
        client = app.test_client()
        assert client.get("/voice/vi/thanks.wav").status_code == 404
        for path in ("/", "/ticket"):
            html = client.get(path).get_data(as_text=True)
            assert "voice.js" not in html and "data-listen" not in html
    finally:
        app.extensions["kiosk"].close()


# --- in Chromium ---------------------------------------------------------------------------------------------

PLAYED = """() => {
  window.__played = [];
  document.querySelector("audio.voice-player").addEventListener("playing",
    e => window.__played.push(new URL(e.target.src).pathname));
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("voice") / "var"
    with KioskServer(data, demo=True, env={"KIOSK_THANKS_SECONDS": "30", "KIOSK_RESPONSE_INTERVAL": "0"}) as srv:
        yield srv


@pytest.mark.browser
def test_a_touch_says_the_buttons_meaning_then_the_steps_prompt(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/")
    page.evaluate(PLAYED)
    page.click("[data-listen]")  # "Listen": the screen's question, read aloud
    page.wait_for_function("window.__played.length >= 1", timeout=10000)
    assert page.evaluate("window.__played") == ["/voice/vi/rate.wav"]
    page.click("[data-level=very_satisfied]")
    expect(page.locator("#step-thanks")).to_be_visible()
    page.wait_for_function("window.__played.length >= 3", timeout=15000)
    assert page.evaluate("window.__played")[1:] == ["/voice/vi/level_very_satisfied.wav", "/voice/vi/thanks.wav"]
    page.close()


@pytest.mark.browser
def test_a_button_speaks_at_its_first_touch_only_and_the_ticket_number_is_said(server, browser):
    page = browser.new_page(viewport={"width": 800, "height": 480})
    page.goto(server.base + "/ticket")
    page.evaluate(PLAYED)
    page.click("#priority")
    page.click("#priority")  # the second touch changes the choice but says nothing again
    page.wait_for_timeout(1500)
    assert page.evaluate("window.__played") == ["/voice/vi/priority.wav"]
    page.click("[data-service=CT]")
    expect(page.locator("#t-result")).to_be_visible()
    page.wait_for_function("window.__played.length >= 4", timeout=15000)
    played = page.evaluate("window.__played")
    assert played[1] == "/voice/vi/service_CT.wav"
    assert played[2].startswith("/voice/vi/ticket/") and played[3] == "/voice/vi/print_printed.wav"
    page.close()
