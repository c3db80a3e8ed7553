"""The commented settings file `systemd/install.sh` copies to ``/etc/kiosk/kiosk.toml``.

It is generated from the settings registry, so it can never disagree with the code: every setting appears
with its help text and its default, commented out. ``tests/deploy/test_install.py`` fails when the checked-in
``systemd/kiosk.toml.example`` is out of date; regenerate it with::

    python -m kiosk.config_template > systemd/kiosk.toml.example
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common import settings as settings_mod

PACKAGES = ("common", "kiosk", "hardware", "web", "sync", "central")
HEADER = """\
# Settings of the commune kiosk (`kiosk` and `kiosk-central`).
#
# Every setting is listed below with its default, commented out: remove the leading "# " of a setting's
# line(s) and change the value to use it. Environment variables KIOSK_<NAME> override this file.
# Lists and tables are TOML, for example: button_pins = [17, 27, 22].
# After a change: sudo systemctl restart kiosk
#
# Generated from common/settings.py by `python -m kiosk.config_template`; do not edit the template by hand.
"""
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def load_every_setting() -> list[settings_mod.Setting]:
    """The registry after importing every module of ours, so settings added with register() are included."""
    root = Path(__file__).resolve().parent.parent
    for package in PACKAGES:
        if not (root / package / "__init__.py").exists():
            continue
        importlib.import_module(package)
        for info in pkgutil.walk_packages([str(root / package)], prefix=f"{package}."):
            if ".migrations" in info.name or info.name.endswith(".__main__"):
                continue  # Alembic's env.py runs only inside Alembic
            importlib.import_module(info.name)
    return list(settings_mod.REGISTRY)


def toml_value(value: Any, indent: str = "") -> str:
    """A TOML literal for a default (strings, numbers, booleans, lists and tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string
    if isinstance(value, dict):
        items = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items())
        return f"{{ {items} }}" if items else "{}"
    if isinstance(value, list | tuple):
        if any(isinstance(item, dict) for item in value):  # one table per line: inline tables cannot wrap
            rows = "".join(f"{indent}  {toml_value(item)},\n" for item in value)
            return f"[\n{rows}{indent}]"
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _key(key: Any) -> str:
    key = str(key)
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def render(registry: Iterable[settings_mod.Setting] | None = None, commented: bool = True) -> str:
    """The template text; ``commented=False`` gives the same file with every setting switched on."""
    registry = load_every_setting() if registry is None else list(registry)
    out = [HEADER.rstrip("\n")]
    for setting in registry:
        out.append("")
        out.extend(f"# {line}" for line in textwrap.wrap(setting.help, 100))
        if callable(setting.default):  # no literal default: the line stays commented even when switched on
            out.append("# Default: worked out from the other settings (or the machine) when the kiosk starts.")
            out.append(f'# {setting.name} = ""')
            continue
        line = f"{setting.name} = {toml_value(setting.default)}"
        out.extend(f"# {part}" if commented else part for part in line.split("\n"))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
