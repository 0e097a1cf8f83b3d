"""The planner's own errors; each maps to one CLI exit code (INTERFACE.md).

Messages are bilingual where they reach users: pass ``zh=`` with the Chinese text, the English text is the
first argument. The CLI picks one by ``--lang``.
"""

from __future__ import annotations


class PlannerError(Exception):
    """Base of every error the planner raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh or message

    def text(self, lang: str = "zh") -> str:
        """The message in ``lang`` ("zh" or "en")."""
        return self.zh if lang == "zh" else self.message


class ValidationError(PlannerError):
    """Bad input: the message names the file, the row or feature, and the fix (exit code 2)."""

    exit_code = 2


class InfeasibleError(PlannerError):
    """The numbers prove the rules cannot all hold, found before solving (exit code 1)."""

    exit_code = 1


class SolverError(PlannerError):
    """A solver failed or found nothing within its time limit (exit code 3)."""

    exit_code = 3
