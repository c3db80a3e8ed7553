"""How every report, filter, comment and export names a counter: "TT · Quầy 1", "CN · Quầy 1".

Counters are numbered per reception point (DESIGN.md, "Who owns what"): "Quầy 1" of the centre (TT) and "Quầy 1"
of a second point (CN) are two counters, so a name carries its point's code. A commune with a single reception
point has nothing to tell apart, and its counters read as they always did, "Quầy 1": a commune clerk knows her
counter by its number, and "TT ·" in front of every row of a one-point commune is noise.
"""

from __future__ import annotations

from collections.abc import Collection

#: The word for a counter in the Vietnamese documents (pages pass their own translation).
COUNTER_VI = "Quầy"
NO_COUNTER_VI = "(không gắn quầy)"


def counter_label(
    site_code: str | None, number: int | None, sites: Collection[str] | None = None, word: str = COUNTER_VI
) -> str:
    """ "TT · Quầy 1"; just "Quầy 1" when ``sites`` (the commune's reception points) has one point or fewer.

    ``sites=None`` means "not known": the point is named whenever the record has one.
    """
    name = f"{word} {number}"
    if not site_code or (sites is not None and len(set(sites) | {site_code}) <= 1):
        return name
    return f"{site_code} · {name}"


def parse_counter_choice(value: str) -> tuple[str | None, int]:
    """A counter as a filter sends it: "TT:1" (point and number) or "1" (every point's counter 1).

    Raises ValueError when it is neither."""
    site, _, number = value.strip().rpartition(":")
    return (site.strip().upper() or None), int(number)
