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
