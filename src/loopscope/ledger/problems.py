"""Problems found while reading a ledger, and the one exception that carries them all."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as the format allows.

    ``str(problem)`` is ``file:line: <entity> <id>: <field>: <message>``; parts that are not known
    (a syntax error has no entity) are left out.
    """

    file: str
    line: int | None
    entity: str | None  # "deal", "party", "figure", "rate" or None for file-level problems
    id: str | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [where]
        if self.entity is not None:
            parts.append(f"{self.entity} {self.id}" if self.id else self.entity)
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "entity": self.entity,
            "id": self.id,
            "field": self.field,
            "message": self.message,
        }


class LedgerError(ValueError):
    """Raised by every loader when the input has problems; ``.problems`` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, str(p)))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the ledger"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))
