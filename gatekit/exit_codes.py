"""The exit-code table, documented once and kept stable.

CI scripts branch on these numbers, so they never change meaning between releases.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    SHIP = 0
    """Every gate passed, the budget held and the rollback manifest is complete."""

    INTERNAL_ERROR = 1
    """A bug in gatekit: an unexpected exception. Please report it."""

    INVALID_INPUT = 2
    """The spec, a results file or the command line is wrong; nothing was evaluated."""

    REVISE = 3
    """Not shippable as is: a gate failed or could not be evaluated, or the manifest is incomplete."""

    STOP = 4
    """A stop gate failed or the budget was exceeded: do not promote this checkpoint."""
