"""Find user-visible text in Jinja templates that does not go through ``_()``.

Only the template's own text is looked at: the Jinja lexer keeps its ``data`` tokens (HTML written in the
template) and drops every ``{{ … }}``, ``{% … %}`` and ``{# … #}``, so text produced by ``_()`` or taken from
the database is never flagged. What remains is parsed as HTML: every text node, and the attributes a person
reads or hears (title, placeholder, alt, aria-label, button values), must hold no letter.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from jinja2 import Environment

# Shown as is in every language: each language's own name in the language switch (an endonym is never
# translated), file-format and program names; and what is typed rather than read (keyboard keys, commands).
ALLOWED_WORDS = ("English", "Tiếng Việt", "CSV", "JSON", "XLSX", "DOCX", "kiosk-central")
VERBATIM_ELEMENTS = {"kbd", "code", "script", "style"}
READ_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "aria-placeholder", "aria-roledescription", "label"}
BUTTON_INPUTS = {"button", "submit", "reset"}
LETTER = re.compile(r"[^\W\d_]")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def _walk(source: str, skip_blocks: set[str]) -> tuple[str, set[str]]:
    """The template's own HTML (Jinja constructs replaced by a space, line numbers kept, the content of
    ``skip_blocks`` left out), and the names of the blocks it opens inside an HTML tag (attribute blocks)."""
    parts: list[str] = []
    in_tag_blocks: set[str] = set()
    line = 1
    stack: list[str] = []  # open {% block %} names
    tokens = [t for t in Environment(extensions=["jinja2.ext.i18n"]).lex(source) if t[1] != "whitespace"]
    for i, (lineno, kind, value) in enumerate(tokens):
        if kind == "block_begin" and i + 2 < len(tokens) and tokens[i + 1][2] == "block":
            name = tokens[i + 2][2]
            html = "".join(parts)
            if html.rfind("<") > html.rfind(">"):
                in_tag_blocks.add(name)
            stack.append(name)
        elif kind == "block_begin" and i + 1 < len(tokens) and tokens[i + 1][2] == "endblock" and stack:
            stack.pop()
        if kind == "data":
            if lineno > line:
                parts.append("\n" * (lineno - line))
                line = lineno
            parts.append("" if skip_blocks.intersection(stack) else value)
            line += value.count("\n")
        elif kind in {"variable_begin", "block_begin", "comment_begin"}:
            parts.append(" ")
    return "".join(parts), in_tag_blocks


def attribute_blocks(sources: list[str]) -> set[str]:
    """Blocks that a layout opens inside a tag (``<body class="{% block body_class %}">``): their content,
    given in another template, is an attribute value such as a CSS class, not text."""
    names: set[str] = set()
    for source in sources:
        names |= _walk(source, set())[1]
    return names


def template_html(source: str, skip_blocks: set[str] = frozenset()) -> str:
    return _walk(source, set(skip_blocks))[0]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.found: list[tuple[int, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRIBUTES or (
                name == "value" and tag == "input" and (values.get("type") or "").lower() in BUTTON_INPUTS
            )
            if readable and value and self._visible(value):
                self.found.append((self.getpos()[0], f'{tag} {name}="{value.strip()}"'))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack and self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if any(tag in VERBATIM_ELEMENTS for tag in self.stack):
            return
        if self._visible(data):
            self.found.append((self.getpos()[0], data.strip()))

    @staticmethod
    def _visible(text: str) -> bool:
        for word in ALLOWED_WORDS:
            text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", "", text)
        return bool(LETTER.search(text))


def untranslated(source: str, skip_blocks: set[str] = frozenset()) -> list[tuple[int, str]]:
    """(line, text) of each piece of literal user-visible text in a template source; ``skip_blocks`` are the
    attribute blocks of the layouts (see :func:`attribute_blocks`)."""
    scanner = _Scanner()
    scanner.feed(template_html(source, skip_blocks))
    scanner.close()
    return scanner.found
