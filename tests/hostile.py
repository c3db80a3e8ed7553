"""Hostile values and bodies for the fuzz tests: deep nesting, huge numbers, wrong types, bad Unicode, NUL.

Seeded (``random.Random``), so a failure names a body that can be made again. Some hostile JSON cannot be
written by ``json.dumps`` (NaN is, but a 5,000-digit number, ``1e999`` or a lone surrogate escape are not
what it writes), so bodies are built with placeholders and the JSON text is edited afterwards.
"""

from __future__ import annotations

import json
import random
from typing import Any

#: Raw JSON fragments json.dumps would not produce as such.
RAW = {
    "@NAN@": "NaN",
    "@INF@": "Infinity",
    "@NINF@": "-Infinity",
    "@BIGFLOAT@": "1e999",
    "@HUGEINT@": "9" * 5000,
    "@NEGHUGE@": "-" + "7" * 400,
    "@SURROGATE@": '"a\\ud800b"',
    "@LOWSURROGATE@": '"\\udfff"',
    "@DEEP_LIST@": "[" * 30000 + "]" * 30000,
    "@DEEP_OBJECT@": '{"a":' * 5000 + "1" + "}" * 5000,
}

VALUES: list[Any] = [
    *RAW,  # the placeholders themselves
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**31,
    2**63,
    -(2**63) - 1,
    10**18,
    "",
    " ",
    "1",
    "satisfied",
    "HT",
    "bad\x00service",
    "\x00",
    "\x1b[31mred",
    "\x7f",
    "\u0085",
    "tab\tand\nnewline",
    "Nguyễn Thị Lan 🙂",
    "\u202eevil",
    "x" * 3000,
    [],
    [1, 2, 3],
    ["time"],
    {},
    {"time": "satisfied"},
    {"time": ["satisfied"]},
    {"\x00": 1},
    {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}},
]


def value(rng: random.Random) -> Any:
    return rng.choice(VALUES)


def body(rng: random.Random, fields: list[str]) -> dict[str, Any]:
    """An object with some of ``fields`` (and now and then an unknown or hostile key), hostile values."""
    chosen = rng.sample(fields, k=rng.randint(0, len(fields))) if fields else []
    out = {name: value(rng) for name in chosen}
    if rng.random() < 0.2:
        out[rng.choice(["extra", "\x00key", "@SURROGATE@", "__proto__"])] = value(rng)
    return out


def encode(data: Any) -> bytes:
    """JSON bytes of ``data`` with the placeholders replaced by their raw hostile fragments."""
    text = json.dumps(data, ensure_ascii=True)
    for placeholder, raw in RAW.items():
        text = text.replace(json.dumps(placeholder), raw)
    return text.encode()


#: Whole bodies that are hostile as such.
WHOLE_BODIES: list[bytes] = [
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"42",
    b"{",
    b"{}}",
    b"\xff\xfe\x00",
    b'{"level": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes
    RAW["@DEEP_LIST@"].encode(),
    RAW["@DEEP_OBJECT@"].encode(),
    ("{" + '"a":1,' * 20000 + '"b":2}').encode(),
    b'{"level": NaN}',
    b'{"level": "satisfied", "counter": ' + RAW["@HUGEINT@"].encode() + b"}",
]


def bodies(rng: random.Random, fields: list[str], n: int) -> list[bytes]:
    """``n`` hostile bodies for an endpoint taking ``fields``."""
    made = list(WHOLE_BODIES)
    while len(made) < n:
        made.append(encode(body(rng, fields)))
    return made[:n]


def query_values(rng: random.Random, n: int) -> list[str]:
    """Hostile query-string values (already %-encoded where they need to be)."""
    pool = [
        "99999999999999999999999",
        "-1",
        "0",
        "nan",
        "inf",
        "1e999",
        "%00",
        "%ED%A0%80",
        "%FF",
        "x" * 2000,
        "2026-13-45",
        "9999-12-31",
        "0001-01-01",
        "../../etc/passwd",
        "%27%3B--",
        "",
    ]
    return [rng.choice(pool) for _ in range(n)]


def announce_huge_body(host: str, port: int, path: str, content_type: str, megabytes: int = 900) -> bytes:
    """POST to ``path`` with a Content-Length of ``megabytes`` MB, send the first megabyte, and return what the
    server answered by then (its status line at least, or b"" if it waits for the rest)."""
    import socket

    with socket.create_connection((host, port), timeout=20) as sock:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {megabytes * 2**20}\r\n\r\n"
        )
        sock.sendall(head.encode())
        try:
            sock.sendall(b"x" * 2**20)
        except OSError:
            pass  # the server closed the connection: refused already
        answer = b""
        try:
            while b"\r\n" not in answer:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
        except TimeoutError:
            pass  # nothing more within the socket's timeout
    return answer
