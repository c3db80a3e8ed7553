"""The suite on several processes (pytest-xdist, ``-n N``): what runs where, and in what order.

- Each test module is one unit of work, kept on one worker and run in its own order, as in a serial run (some
  modules share a server or a container between their tests, and a few tests build on the one before).
- Tests marked ``xdist_group(NAME)`` run on one worker together, one after the other, whatever their modules.
  Every test marked ``systemd`` is in the group ``kiosk-test``: they boot the one container of that name, whose
  kiosk answers on this machine's port 8080 (tests/container/machine.py), so two of them must never run at once.
- The long modules start first (``systemd``, then ``slow``, then ``browser`` tests), so that they overlap the
  many short ones instead of running alone at the end.
- The worker that takes the first ``systemd`` test starts building the container root in the background at once,
  while the Debian package builds (tests/container/root.py, packages.py): on a fresh machine they took turns.

xdist's own ``--dist loadgroup`` finds a group by a suffix it writes into each test's id, which pytest 9.2's
structured ids no longer take: here the workers write the groups into a file the scheduler reads instead.
Without ``-n`` nothing changes: the tests run in collection order, one at a time.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from pathlib import Path

import pytest

#: The group of every test that boots the nspawn container ``kiosk-test`` (port 8080 of this machine).
MACHINE_GROUP = "kiosk-test"
#: Markers of long tests, longest first: a module starts as early as its longest test's marker says.
LONG_MARKERS = ("systemd", "slow", "browser")
#: The ``--dist`` modes this plan replaces (``-n N`` alone means ``load``).
PLANNED = ("load", "loadgroup", "loadscope", "loadfile")
GROUPS_KEY = "kiosk_groups_file"


def in_worker(config: pytest.Config) -> bool:
    """Whether this process is an xdist worker (not the controller, not a serial run)."""
    return hasattr(config, "workerinput")


def group_of(item: pytest.Item) -> str | None:
    """The ``xdist_group`` of a test (``systemd`` tests: the container's), or None."""
    mark = item.get_closest_marker("xdist_group")
    if mark is not None:
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return MACHINE_GROUP if item.get_closest_marker("systemd") else None


def _rank(item: pytest.Item) -> int:
    return next((i for i, name in enumerate(LONG_MARKERS) if item.get_closest_marker(name)), len(LONG_MARKERS))


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def pytest_configure(config: pytest.Config) -> None:
    if not in_worker(config) and config.getoption("dist", "no") in PLANNED:
        config.kiosk_groups_dir = tempfile.mkdtemp(prefix="kiosk-xdist-")  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = getattr(config, "kiosk_groups_dir", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """Tell each worker where to write the groups (the controller collects nothing itself)."""
    folder = getattr(node.config, "kiosk_groups_dir", None)
    if folder:
        node.workerinput[GROUPS_KEY] = str(Path(folder) / "groups.json")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On a worker: the long modules first, and the groups written down for the scheduler."""
    if not in_worker(config) or GROUPS_KEY not in config.workerinput:
        return
    ranks: dict[str, int] = {}
    for item in items:
        module = _module(item.nodeid)
        ranks[module] = min(ranks.get(module, len(LONG_MARKERS)), _rank(item))
    items.sort(key=lambda item: ranks[_module(item.nodeid)])  # stable: a module keeps its own order
    groups = {item.nodeid: group for item in items if (group := group_of(item))}
    target = Path(config.workerinput[GROUPS_KEY])
    partial = target.with_name(f"{config.workerinput['workerid']}.json")
    partial.write_text(json.dumps(groups))
    os.replace(partial, target)  # every worker collects the same tests: whichever lands last is as good


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """Whole modules (or whole groups) as units, in the workers' order (long modules first)."""
    folder = getattr(config, "kiosk_groups_dir", None)
    if not folder:
        return None
    from xdist.scheduler import LoadScopeScheduling

    groups_file = Path(folder) / "groups.json"

    class ModuleScheduling(LoadScopeScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # read once every worker has collected (schedule() runs then)
                self.groups = json.loads(groups_file.read_text()) if groups_file.exists() else {}
            group = self.groups.get(nodeid)
            return f"group {group}" if group else _module(nodeid)

    config.option.loadscopereorder = False  # keep the workers' order, not the largest units first
    return ModuleScheduling(config, log)


_root_started = False


def pytest_runtest_setup(item: pytest.Item) -> None:
    """On a worker's first ``systemd`` test, in a module that boots the container root: build the root in the
    background (see above)."""
    global _root_started
    if _root_started or not in_worker(item.config) or not item.get_closest_marker("systemd"):
        return
    _root_started = True
    from tests.container.root import build_in_background, ensure_root

    if os.geteuid() == 0 and getattr(item.module, "ensure_root", None) is ensure_root:  # a module booting the root
        threading.Thread(target=build_in_background, name="container-root", daemon=True).start()
