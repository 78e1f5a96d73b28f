"""Audit: counting looks in a ledger file another check has just created (no tables yet) finds no looks;
it is not an error. (Two CI jobs starting on a fresh ledger: tests/test_ledger.py's two-process test hit
"no such table: decisions" under load.)"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from gatekit.integrity.ledger import earlier_looks


def test_a_ledger_file_without_tables_yet_has_no_earlier_looks(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    sqlite3.connect(path).close()
    assert path.is_file()
    assert earlier_looks(path, "sha256:" + "a" * 64, "cand") == []
