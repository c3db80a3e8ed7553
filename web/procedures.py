"""The counter's information point: "Tra cứu thủ tục" (`/thu-tuc`), the procedures' JSON, the printed checklist
and the procedure read aloud.

`GET /api/procedures?service=HT` lists a field's procedures, `?q=khai sinh` searches (diacritics optional);
`POST /api/procedures/<code>/print` prints what to bring on the ticket printer. Printing from anywhere but the
kiosk's own screen is flood-limited per address (paper is the commune's).
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file

from common.errors import PrinterError, ValidationError
from common.procedure_rules import fold
from common.throttle import FloodGate
from kiosk import procedures
from kiosk.app import current_kiosk
from web.api import is_local

bp = Blueprint("procedures", __name__)

#: Checklists one address other than the kiosk's own screen may print a minute.
PRINT_LIMIT = 3
GATE_KEY = "procedure_print_gate"


def _gate() -> FloodGate:
    gate = current_app.extensions.get(GATE_KEY)
    if gate is None:
        gate = current_app.extensions[GATE_KEY] = FloodGate(PRINT_LIMIT, 60.0)
    return gate


def _services() -> dict[str, str]:
    return {code: s.name for code, s in current_kiosk().queue.tickets.services().items()}


@bp.app_context_processor
def _globals() -> dict:
    """``procedures_held()`` for the ticket screen: whether to offer "Tra cứu thủ tục"."""

    def procedures_held() -> bool:
        with current_kiosk().sessions() as session:
            return bool(procedures.fields(session))

    return {"procedures_held": procedures_held}


@bp.get("/api/procedures")
def list_procedures():
    """A field's procedures (``service``), or a search (``q``: its first 50 matches), in the province's order."""
    service = (request.args.get("service") or "").strip() or None
    query = (request.args.get("q") or "").strip() or None
    if query and len(query) > procedures.MAX_QUERY:
        raise ValidationError(f"Search at most {procedures.MAX_QUERY} characters.", {"field": "q"})
    if service is None and query is None:
        raise ValidationError("Name a field (service=HT) or search (q=khai sinh).", {"field": "service"})
    with current_kiosk().sessions() as session:
        found = procedures.find(session, service, query)
    names = _services()
    return jsonify([{**p, "service_name": names.get(p["service"], p["service"])} for p in found])


@bp.get("/api/procedures/<code>")
def one_procedure(code: str):
    with current_kiosk().sessions() as session:
        found = procedures.get(session, code)
    return jsonify({**found, "service_name": _services().get(found["service"], found["service"])})


@bp.post("/api/procedures/<code>/print")
def print_checklist(code: str):
    """Print the procedure's checklist (papers with copies, forms, fee, time) on the ticket printer."""
    kiosk = current_kiosk()
    if not is_local(request.remote_addr):
        _gate().check(request.remote_addr or "?")
    with kiosk.sessions() as session:
        found = procedures.get(session, code)  # 404 for a code not on the list
    if kiosk.printing is None:
        raise PrinterError("This kiosk runs without its hardware, so it has no printer to print on.")
    content = {
        **found,
        "service": _services().get(found["service"], found["service"]),
        "printed_at": kiosk.clock.local().replace(tzinfo=None),
    }
    kiosk.printing.print_checklist(content)
    return jsonify({"code": found["code"], "printed": True, "printer": kiosk.printing.status()})


def spoken_text(p: dict) -> str:
    """What "Đọc to" says: the procedure, the papers with their copies, the fee and the time."""
    papers = ". ".join(f"{paper['name']}, {paper['copies']} bản" for paper in p["papers"])
    parts = [f"Thủ tục {p['name']}.", f"Giấy tờ cần mang: {papers}." if papers else ""]
    parts += [f"Lệ phí: {p['fee']}." if p["fee"] else "", f"Thời hạn: {p['time']}." if p["time"] else ""]
    return " ".join(part for part in parts if part)


@bp.get("/voice/vi/procedure/<code>.wav")
def read_aloud(code: str):
    """The procedure read aloud in Vietnamese (the spoken prompts' voice); only procedures on the list."""
    from web.voice import voice_on

    kiosk = current_kiosk()
    if kiosk.voice is None or not voice_on():
        abort(404)
    with kiosk.sessions() as session:
        found = procedures.get(session, code)
    key = "procedure_" + fold(found["code"]).replace(".", "_").replace("-", "_")[:50]
    try:
        path = kiosk.voice.clip(key, spoken_text(found), "vi", "vi")
    except Exception as exc:  # espeak-ng missing or failing: the screen stays silent, never broken
        current_app.logger.warning("procedure %s not read aloud: %s", code, exc)
        abort(503)
    return send_file(BytesIO(path.read_bytes()), mimetype="audio/wav", max_age=0)


@bp.get("/thu-tuc")
def lookup_screen():
    """ "Tra cứu thủ tục": field → procedure → what to bring; print it, hear it, or take a number for the field."""
    kiosk = current_kiosk()
    with kiosk.sessions() as session:
        held = procedures.fields(session)
    services = [{"code": c, "name": n} for c, n in _services().items() if c in held]
    return render_template(
        "procedures.html",
        services=services,
        commune=kiosk.settings["commune_name"],
        idle_seconds=int(kiosk.settings["detail_seconds"]),
    )
