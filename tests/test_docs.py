"""The README documents every setting (datasette style) and starts with the two commands."""

from __future__ import annotations

from pathlib import Path

from common.settings import REGISTRY

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme_table():
    missing = [s.name for s in REGISTRY if f"| `{s.name}` | `KIOSK_{s.name.upper()}` |" not in README]
    assert missing == [], f"README settings table lacks: {missing}"


def test_every_setting_has_help():
    assert all(s.help.strip() for s in REGISTRY)


def test_readme_starts_with_the_demo_and_test_commands():
    first_block = README.split("```", 2)[1]
    assert "kiosk serve --demo" in first_block
    assert "pytest" in first_block
