"""Waivers: each rule of `gatekit.decide.waivers`, the refusals, and `gatekit waive` + `check` end to end."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gatekit.decide.waivers import Waiver, apply_waivers
from gatekit.integrity.ledger import record_waiver
from gatekit.outcomes import Reason
from tests.conftest import MINIMAL_SPEC, Run
from tests.test_report_junit import XSD

TODAY = dt.date(2026, 6, 1)
DIGEST = "sha256:" + "a" * 64
RESULTS = "sha256:" + "b" * 64


def _reason(subject: str, status: str, leads_to: str = "revise", kind: str = "gate") -> Reason:
    return Reason(leads_to=leads_to, kind=kind, subject=subject, status=status, message="m")  # type: ignore[arg-type]


def _waiver(subject: str = "acc[all].min", **changes: Any) -> Waiver:
    fields: dict[str, Any] = {
        "id": 1,
        "spec_name": "tiny",
        "subject": subject,
        "spec_digest": DIGEST,
        "results_sha256": RESULTS,
        "by": "alice",
        "reason": "accepted for the canary",
        "expires": TODAY,
        "recorded_at": "2026-05-01T00:00:00+00:00",
    }
    return Waiver(**{**fields, **changes})


def _apply(reasons: list[Reason], *waivers: Waiver) -> Any:
    return apply_waivers(reasons, waivers, spec_digest=DIGEST, results_sha256=RESULTS, today=TODAY)


@pytest.mark.parametrize(
    "reason",
    [
        _reason("acc[all].min", "inconclusive"),
        _reason("acc[all].min", "missing"),
        _reason("acc[all].min", "fail"),  # a failing check of an `on_fail: revise` gate
    ],
    ids=["inconclusive", "missing", "fail-revise"],
)
def test_a_waiver_accepts(reason: Reason) -> None:
    outcome = _apply([reason], _waiver())
    assert outcome.reasons == ()
    assert [(w.waiver_id, w.subject, w.status) for w in outcome.applied] == [(1, "acc[all].min", reason.status)]
    assert outcome.notes == ()


@pytest.mark.parametrize(
    ("reasons", "waiver", "note"),
    [
        (
            [_reason("acc[all].min", "fail", leads_to="stop")],
            _waiver(),
            "acc[all].min fails an `on_fail: stop` gate, which no waiver can accept",
        ),
        (
            [_reason("train_usd", "fail", leads_to="stop", kind="budget")],
            _waiver("train_usd"),
            "'train_usd' is not a gate check (gate_id[slice].bound); budget and other reasons cannot be waived",
        ),
        (
            [_reason("acc[all].min", "inconclusive")],
            _waiver(spec_digest="sha256:" + "c" * 64),
            "it was recorded for another version of the spec",
        ),
        (
            [_reason("acc[all].min", "inconclusive")],
            _waiver(results_sha256="sha256:" + "d" * 64),
            "it was recorded for other candidate results",
        ),
        (
            [_reason("acc[all].min", "inconclusive")],
            _waiver(expires=TODAY - dt.timedelta(days=1)),
            "it expired on 2026-05-31",
        ),
        (
            [_reason("acc[other].min", "inconclusive")],
            _waiver(),
            "acc[all].min is not failing, missing or inconclusive in this decision: nothing to waive",
        ),
        (
            [_reason("acc[all].min", "not_validated", kind="judge")],
            _waiver(),
            "nothing to waive",
        ),
    ],
    ids=["fail-stop", "budget", "other-spec", "other-results", "expired", "passing", "judge"],
)
def test_a_waiver_is_refused(reasons: list[Reason], waiver: Waiver, note: str) -> None:
    outcome = _apply(reasons, waiver)
    assert outcome.reasons == tuple(reasons)
    assert outcome.applied == ()
    (written,) = outcome.notes
    assert written.startswith("waiver #1 (")
    assert note in written


def test_a_waiver_holds_through_its_expiry_day() -> None:
    assert len(_apply([_reason("acc[all].min", "missing")], _waiver(expires=TODAY)).applied) == 1


def test_a_second_waiver_of_the_same_check_has_nothing_left_to_waive() -> None:
    outcome = _apply([_reason("acc[all].min", "missing")], _waiver(), _waiver(id=2))
    assert [w.waiver_id for w in outcome.applied] == [1]
    assert "waiver #2" in outcome.notes[0]
    assert "nothing to waive" in outcome.notes[0]


# ------------------------------------------------------------------------------------ end to end

SPEC = MINIMAL_SPEC.replace(
    "candidate.yaml\nbaseline: baseline.yaml", "candidate.yaml\nmetrics:\n  accuracy: {kind: proportion}"
).replace(
    "    min: 0.5\n",
    "    min: 0.5\n  - id: safety\n    metric: safety\n    min: 0.9\n    on_fail: stop\n",
)
CANDIDATE = """
model: cand
metrics:
  accuracy: {all: {value: 0.55, n: 20}}
  safety: {all: {value: 0.1, n: 1000}}
"""
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture
def setup(write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    spec = write("gate.yaml", SPEC.replace("min: 0.9\n    on_fail: stop", "min: 0.05\n    on_fail: stop"))
    write("candidate.yaml", CANDIDATE)
    monkeypatch.chdir(spec.parent)
    return spec


def _waive(gatekit: Callable[..., Run], check: str, expires: str = FUTURE, *extra: str) -> Run:
    return gatekit(
        "waive", "gate.yaml", "--check", check, "--by", "alice", "--reason", "canary only", "--expires", expires, *extra
    )


def test_waive_then_check_ships_and_lists_the_waiver(gatekit: Callable[..., Run], setup: Path) -> None:
    before = gatekit("check", "gate.yaml", "-f", "json", "--no-record")
    assert json.loads(before.out)["gates"][0]["status"] == "inconclusive"
    run = _waive(gatekit, "acc[all].min")
    assert run.code == 0
    assert run.err.startswith("recorded waiver #1 in .gatekit/ledger.db: acc[all].min accepted by alice")
    after = gatekit("check", "gate.yaml", "-f", "json", "--record")
    verdict = json.loads(after.out)
    assert after.code == 0
    assert verdict["summary"].startswith("SHIP with 1 waived: 1 of 2 gate checks passed and 1 was accepted")
    assert verdict["waivers"] == [
        {
            "waiver_id": 1,
            "subject": "acc[all].min",
            "status": "inconclusive",
            "by": "alice",
            "reason": "canary only",
            "expires": FUTURE,
        }
    ]
    with sqlite3.connect(setup.parent / ".gatekit" / "ledger.db") as db:
        assert db.execute("SELECT decision_id, waiver_id, subject FROM waivers_applied").fetchall() == [
            (1, 1, "acc[all].min")
        ]
        assert json.loads(db.execute("SELECT verdict_json FROM decisions").fetchone()[0])["waivers"][0]["by"] == "alice"


@pytest.mark.parametrize("fmt", ["table", "junit", "markdown", "github", "html"])
def test_every_report_format_lists_the_applied_waiver(gatekit: Callable[..., Run], setup: Path, fmt: str) -> None:
    _waive(gatekit, "acc[all].min")
    text = gatekit("check", "gate.yaml", "-f", fmt, "--no-record", "--width", "250").out
    assert "waiver #1 accepted acc[all].min (inconclusive), by alice through" in text.replace("\\", "")


def test_junit_shows_a_waived_check_as_skipped_with_the_waiver(gatekit: Callable[..., Run], setup: Path) -> None:
    _waive(gatekit, "acc[all].min")
    xml = gatekit("check", "gate.yaml", "-f", "junit", "--no-record").out
    XSD.validate(xml)
    root = ET.fromstring(xml)
    case = next(c for c in root.iter("testcase") if c.get("name") == "acc[all].min")
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("waiver #1 accepted acc[all].min (inconclusive), by alice")
    assert case.find("error") is None


def test_changed_results_make_the_waiver_ignored_with_a_note(gatekit: Callable[..., Run], setup: Path) -> None:
    _waive(gatekit, "acc[all].min")
    (setup.parent / "candidate.yaml").write_text(CANDIDATE.replace("n: 20", "n: 21"), encoding="utf-8")
    verdict = json.loads(gatekit("check", "gate.yaml", "-f", "json", "--no-record").out)
    assert verdict["verdict"] == "revise"
    assert verdict["waivers"] == []
    assert any("ignored: it was recorded for other candidate results" in n for n in verdict["notes"])


def test_a_changed_spec_makes_the_waiver_ignored_with_a_note(gatekit: Callable[..., Run], setup: Path) -> None:
    _waive(gatekit, "acc[all].min")
    setup.write_text(setup.read_text().replace("name: tiny", "name: tiny\nconfidence: 0.9"), encoding="utf-8")
    verdict = json.loads(gatekit("check", "gate.yaml", "-f", "json", "--no-record").out)
    assert verdict["waivers"] == []
    assert any("ignored: it was recorded for another version of the spec" in n for n in verdict["notes"])


def test_an_expired_waiver_is_ignored_with_a_note(gatekit: Callable[..., Run], setup: Path) -> None:
    from gatekit.integrity.ledger import results_sha256
    from gatekit.integrity.lock import spec_digest
    from gatekit.sources.load import load_spec

    record_waiver(
        setup.parent / ".gatekit" / "ledger.db",
        spec_name="tiny",
        spec_digest=spec_digest(load_spec(setup).spec),
        results_sha256=results_sha256(setup.parent / "candidate.yaml") or "",
        subject="acc[all].min",
        by="bob",
        reason="old",
        expires=dt.date(2020, 1, 1),
    )
    verdict = json.loads(gatekit("check", "gate.yaml", "-f", "json", "--no-record").out)
    assert verdict["verdict"] == "revise"
    assert any("waiver #1 (acc[all].min, by bob) ignored: it expired on 2020-01-01" in n for n in verdict["notes"])


@pytest.mark.parametrize(
    ("check", "expires", "message"),
    [
        ("safety[all].min", FUTURE, "cannot waive: safety[all].min fails an `on_fail: stop` gate"),
        ("budget.train_usd", FUTURE, "name one gate check as gate_id[slice].bound (budget lines cannot be waived)"),
        ("acc[all].max", FUTURE, "'acc[all].max' is not a check of gate.yaml"),
        ("acc[all].min", "2020-01-01", "that day has passed"),
        ("acc[all].min", "next week", "give a date as YYYY-MM-DD"),
    ],
    ids=["fail-stop", "budget", "no-such-check", "expired", "not-a-date"],
)
def test_waive_refuses(gatekit: Callable[..., Run], setup: Path, check: str, expires: str, message: str) -> None:
    setup.write_text(setup.read_text().replace("min: 0.05\n    on_fail: stop", "min: 0.9\n    on_fail: stop"))
    run = _waive(gatekit, check, expires)
    assert run.code == 2
    assert message in run.err
    assert not (setup.parent / ".gatekit" / "ledger.db").exists()


def test_waive_refuses_a_passing_check(gatekit: Callable[..., Run], setup: Path) -> None:
    run = _waive(gatekit, "safety[all].min")
    assert run.code == 2
    assert "nothing to waive" in run.err


def test_a_ledger_from_before_waivers_gains_the_tables_and_keeps_its_decisions(
    gatekit: Callable[..., Run], setup: Path
) -> None:
    ledger = setup.parent / "old.db"
    assert gatekit("check", "gate.yaml", "--ledger", ledger, "--no-color").code == 3
    with sqlite3.connect(ledger) as db:
        db.execute("DROP TABLE waivers_applied")
        db.execute("DROP TABLE waivers")
    assert _waive(gatekit, "acc[all].min", FUTURE, "--ledger", str(ledger)).code == 0
    assert gatekit("check", "gate.yaml", "--ledger", ledger).code == 0
    with sqlite3.connect(ledger) as db:
        assert [r[0] for r in db.execute("SELECT verdict FROM decisions ORDER BY id")] == ["revise", "ship"]
