"""Spoken prompts for the citizen screens: `/voice/<lang>/<key>.wav` and `/voice/<lang>/ticket/<id>.wav`.

Only the prompts listed here can be spoken (no text comes from the browser), each in the screen's language:
the steps' prompts, the buttons' meanings, the rating levels, the TT 01 questions and answers, the services
and a queue number. The clips come from ``hardware.prompts.PromptVoice`` (a commune's recording or espeak-ng);
the `spoken_prompts` setting turns all of it off (404, and the pages load no sound).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file
from flask_babel import force_locale, lazy_gettext

from common.web.scale_text import localise
from kiosk import ports
from kiosk.app import current_kiosk
from kiosk.scale import indicators_for

bp = Blueprint("voice", __name__)

#: The quick comments offered on the comment step (also spoken as chip_<n>).
CHIPS = (
    lazy_gettext("Waiting time was long"),
    lazy_gettext("Guidance was unclear"),
    lazy_gettext("Had to come back several times"),
    lazy_gettext("Staff were helpful"),
    lazy_gettext("Facilities need improvement"),
)

#: Fixed prompts: the words of a step or of a button, as on screen.
PROMPTS = {
    "rate": (lazy_gettext("How satisfied are you with our service?"), lazy_gettext("Touch one of the faces.")),
    "thanks": (lazy_gettext("Thank you for your rating!"),),
    "detail": (lazy_gettext("Add details and comments"),),
    "done": (lazy_gettext("Done"),),
    "skip": (lazy_gettext("Skip"),),
    "finish": (lazy_gettext("Finish"),),
    "back": (lazy_gettext("Back"),),
    "comment": (lazy_gettext("You may choose a ready-made comment, or touch the comment box to write your own."),),
    "write": (lazy_gettext("Touch here to write your comment."),),
    "type": (lazy_gettext("Touch the keys to write your comment, then touch Done."),),
    "phone": (lazy_gettext("Phone number, if you want an answer"),),
    "send": (lazy_gettext("Send"),),
    "sent": (lazy_gettext("Sent. Thank you for your feedback!"),),
    "error": (
        lazy_gettext("Sorry, your rating could not be saved."),
        lazy_gettext("Please tap again, or tell the clerk."),
    ),
    "ticket": (lazy_gettext("Take a queue number"), lazy_gettext("Touch the field of your file")),
    "priority": (lazy_gettext("Priority"), lazy_gettext("Elderly people, people with disabilities, pregnant women")),
    "your_number": (lazy_gettext("Your queue number is"),),
    "print_printed": (lazy_gettext("Please take your ticket from the printer."),),
    "print_pending": (lazy_gettext("Your ticket is being printed."),),
    "print_failed": (lazy_gettext("The printer has a problem – please remember your queue number."),),
    "print_none": (lazy_gettext("Please remember your queue number."),),
    "ticket_error": (lazy_gettext("Could not take a number. Please touch again, or ask the clerk."),),
}


def voice_on() -> bool:
    kiosk = current_kiosk()
    return bool(kiosk.settings["spoken_prompts"]) and kiosk.voice is not None


def prompt_texts(lang: str) -> dict[str, tuple[str, str]]:
    """Every prompt of the citizen screens in ``lang``: key → (words, espeak-ng voice).

    Services are data written in Vietnamese, so they are said in Vietnamese whatever the screen's language.
    """
    kiosk = current_kiosk()
    texts: dict[str, tuple[str, str]] = {}
    with force_locale(lang):
        for key, parts in PROMPTS.items():
            texts[key] = (" ".join(str(part) for part in parts), lang)
        for index, chip in enumerate(CHIPS):
            texts[f"chip_{index}"] = (str(chip), lang)
        levels = list(kiosk.ratings.levels().values())
        worded_levels, indicators = localise(levels, indicators_for(levels), kiosk.settings["language"])
        for level in worded_levels:
            texts[f"level_{level.key}"] = (level.label, lang)
        for indicator in indicators:
            texts[f"q_{indicator.key}"] = (indicator.question, lang)
            for index, answer in enumerate(indicator.answers):
                texts[f"a_{indicator.key}_{index}"] = (answer, lang)
    for service in kiosk.queue.tickets.services().values():
        texts[f"service_{service.code}"] = (service.name, "vi")
    return texts


def _voice() -> ports.Voice:
    voice = current_kiosk().voice
    if voice is None or not voice_on():
        abort(404)
    return voice


def _clip(lang: str, key: str):
    voice = _voice()
    if lang not in ("vi", "en"):
        abort(404)
    found = prompt_texts(lang).get(key)
    if found is None:
        abort(404)
    text, speaker = found
    try:
        return voice.clip(key, text, lang, speaker)
    except Exception as exc:  # espeak-ng missing or failing: the screen stays silent, never broken
        current_app.logger.warning("spoken prompt %s/%s unavailable: %s", lang, key, exc)
        abort(503)


@bp.get("/voice/<lang>/<key>.wav")
def clip(lang: str, key: str):
    return send_file(_clip(lang, key), mimetype="audio/wav", max_age=0, conditional=True)


@bp.get("/voice/<lang>/ticket/<ticket_id>.wav")
def ticket_number(lang: str, ticket_id: str):
    """ "Your queue number is A 12": for a ticket that exists (no other number can be made to speak)."""
    from io import BytesIO

    voice = _voice()
    intro = _clip(lang, "your_number")
    kiosk = current_kiosk()
    number = kiosk.queue.display_number(ticket_id)
    if number is None:
        abort(404)
    try:
        wav = voice.number(intro, number, lang)
    except Exception as exc:
        current_app.logger.warning("spoken number %s unavailable: %s", number, exc)
        abort(503)
    return send_file(BytesIO(wav), mimetype="audio/wav", max_age=3600)


def template_globals() -> dict:
    """`voice_on` and `voice_base` for the templates (the citizen and ticket screens)."""
    from flask_babel import get_locale

    on = voice_on()
    lang = str(get_locale() or "vi")
    return {"voice_on": on, "voice_base": f"/voice/{lang}/" if on else ""}
