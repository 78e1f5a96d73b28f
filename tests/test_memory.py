"""The allocator settings for large checks: applied on glibc, skipped when turned off."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

PROBE = "from gatekit.memory import keep_freed_memory; print(keep_freed_memory(), keep_freed_memory())"


def probe(env_value: str | None) -> str:
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["GATEKIT_MALLOC_TUNING"] = env_value
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the settings exist only in glibc")
def test_glibc_accepts_the_settings_once_per_process() -> None:
    assert probe(None) == "True True"


def test_the_settings_can_be_turned_off() -> None:
    assert probe("0") == "False False"


HUGE_PAGES_PROBE = """
from gatekit.memory import keep_freed_memory
from numpy._core.multiarray import _set_madvise_hugepage
keep_freed_memory()
print(_set_madvise_hugepage(True))  # returns the setting it replaces
"""


def huge_pages_after(env: dict[str, str]) -> str:
    env = {"PATH": "/usr/bin:/bin", **env}
    done = subprocess.run([sys.executable, "-c", HUGE_PAGES_PROBE], env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="applied with the glibc settings")
def test_numpy_stops_asking_for_huge_pages() -> None:
    assert huge_pages_after({}) == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="numpy advises huge pages only on Linux")
@pytest.mark.parametrize("env", [{"GATEKIT_MALLOC_TUNING": "0"}, {"NUMPY_MADVISE_HUGEPAGE": "1"}])
def test_numpy_huge_pages_are_left_alone_when_asked(env: dict[str, str]) -> None:
    assert huge_pages_after(env) == "True"


NUMPY_FIRST_PROBE = """
import numpy
from gatekit.memory import keep_freed_memory
from numpy._core.multiarray import _set_madvise_hugepage
keep_freed_memory()
print(_set_madvise_hugepage(True))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="applied with the glibc settings")
def test_numpy_imported_before_the_settings_stops_asking_too() -> None:
    env = {"PATH": "/usr/bin:/bin"}
    argv = [sys.executable, "-c", NUMPY_FIRST_PROBE]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_settings_do_not_import_numpy() -> None:
    """numpy loads while a check reads its tables, not before (see `gatekit.api.run_check`)."""
    probe = "import sys, gatekit.memory as m; m.keep_freed_memory(); print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
