"""The suite on several processes (pytest-xdist, ``-n N``): what runs where, and in what order.

- Each test module is one unit of work, kept on one worker and run in its own order, as in a serial run (some
  modules share a server or a container between their tests, and a few tests build on the one before).
- Tests marked ``xdist_group(NAME)`` run on one worker together, one after the other, whatever their modules.
  Every test marked ``systemd`` is in the group ``kiosk-test``: they boot the one container of that name, whose
  kiosk answers on this machine's port 8080 (tests/container/machine.py), so two of them must never run at once.
- The long modules start first (``systemd``, then ``slow`` and :data:`LONG_MODULES`, then ``browser`` tests), so
  that they overlap the many short ones instead of running alone at the end.
- The worker that takes the first ``systemd`` test starts building, in the background, the container root and the
  Debian package (tests/container/root.py, packages.py), and runs the modules that install the package last: on a
  fresh machine the package builds while the other container tests run instead of before them.

xdist's own ``--dist loadgroup`` finds a group by a suffix it writes into each test's id, which pytest 9.2's
structured ids no longer take: here the workers write the groups into a file the scheduler reads instead.
Without ``-n`` nothing changes: the tests run in collection order, one at a time.
"""

from __future__ import annotations

import contextlib
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


#: Long modules without such a marker (measured: several minutes each on a loaded machine), started as ``slow``.
LONG_MODULES = (
    "tests/kiosk/test_ahead.py",
    "tests/central/test_catalog_pages.py",
    "tests/kiosk/test_serve_refusals.py",
    "tests/central/test_fleet.py",
)


def _rank(item: pytest.Item) -> int:
    marked = next((i for i, name in enumerate(LONG_MARKERS) if item.get_closest_marker(name)), len(LONG_MARKERS))
    return min(marked, LONG_MARKERS.index("slow")) if _module(item.nodeid) in LONG_MODULES else marked


def _waits_for_package(item: pytest.Item) -> bool:
    """A module that installs the Debian package: after the other container modules, while the package builds."""
    from tests.container.packages import ensure_debs

    return _uses(getattr(item, "module", None), ensure_debs)


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
    ranks: dict[str, tuple[int, bool]] = {}
    for item in items:
        module = _module(item.nodeid)
        rank = (_rank(item), _waits_for_package(item))
        ranks[module] = min(ranks.get(module, rank), rank)
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


_prepared = False


@pytest.hookimpl(tryfirst=True)  # before the test's fixtures, which wait for what is being built
def pytest_runtest_setup(item: pytest.Item) -> None:
    """At a worker's first ``systemd`` test: build what the container modules need in the background (see above)."""
    global _prepared
    if _prepared or not in_worker(item.config) or not item.get_closest_marker("systemd") or os.geteuid() != 0:
        return
    _prepared = True
    from tests.container.packages import ensure_debs
    from tests.container.root import ensure_root

    if not all(shutil.which(t) for t in ("debootstrap", "systemd-nspawn", "nsenter")):
        return  # the container tests skip (or fail, saying why): nothing to build for them
    modules = {getattr(i, "module", None) for i in item.session.items if i.get_closest_marker("systemd")}
    for build, tools in ((ensure_root, ()), (ensure_debs, ("dpkg-buildpackage", "dh"))):
        if all(shutil.which(t) for t in tools) and any(_uses(m, build) for m in modules):
            threading.Thread(target=_quietly, args=(build,), name=build.__name__, daemon=True).start()


def _uses(module, function) -> bool:
    return module is not None and getattr(module, function.__name__, None) is function


def _quietly(build) -> None:
    """Build ahead of the test: the test's own call waits for it through the build's lock, and builds again and
    reports if this one failed."""
    with contextlib.suppress(Exception):
        build()
