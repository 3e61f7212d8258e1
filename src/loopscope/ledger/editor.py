"""Keeping a YAML ledger up to date: add, edit and retire entries, safely.

:class:`LedgerEditor` is what the dashboard writes through.  Every change

* names the version of the entry it starts from; if the entry has changed since (another browser
  tab, another person, a hand edit), the change is refused with the current version
  (:class:`Conflict`), never applied over it;
* is validated by reading the whole ledger with the changed file's new text, with the same rules
  and messages as ``loopscope validate`` (:class:`Invalid` carries the problems);
* touches only the lines of the changed entry (:mod:`.splice`), and is checked afterwards: the
  ledger read back must equal the old one with exactly that change, or nothing is written;
* is written atomically (temporary file, fsync, rename: :func:`~.files.write_atomic`), so a crash
  leaves the old file or the new one, never half of one;
* is recorded in a change log (JSON lines beside the ledger) with the time, a free-text reason, and
  the entry before and after, so that even a removed entry can be restored.

Versions are content hashes of an entry's canonical record, so they survive restarts and notice
hand edits.  Writes are serialised by a lock; the ledger is read again whenever a file changed on
disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from .files import bundled_path, detect_format, read_text_file
from .ledger import Ledger
from .model import SECTIONS, entity_key
from .problems import LedgerError, Problem
from .records import jsonable, to_record
from .splice import SpliceError, append_entry, remove_entry, replace_entry, sections
from .vocabulary import CLOSED_STATUSES

#: Sections that can be edited, and whether retiring removes the entry (figures) or closes it (deals).
EDITABLE = ("parties", "deals", "figures")
CHANGELOG_NAME = ".loopscope-changes.jsonl"


class EditError(Exception):
    """A change that was refused; ``status`` is the matching HTTP status."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ReadOnly(EditError):
    status = 403


class NotFound(EditError):
    status = 404


class Conflict(EditError):
    """The entry changed since the version the change started from."""

    status = 409

    def __init__(self, message: str, current: dict | None, version: str | None):
        super().__init__(message)
        self.current = current
        self.version = version


class Invalid(EditError):
    """The changed ledger breaks the rules; ``problems`` as ``loopscope validate`` reports them."""

    status = 422

    def __init__(self, message: str, problems: list[Problem]):
        super().__init__(message)
        self.problems = problems


def version_of(record: dict) -> str:
    """The version of an entry: a hash of its canonical record (16 hex digits)."""
    text = json.dumps(jsonable(record), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Change:
    """One recorded change."""

    time: str
    action: str  # create, update, retire
    section: str
    id: str
    file: str
    reason: str
    before: dict | None
    after: dict | None
    version: str | None  # the entry's version after the change (None if it was removed)

    def to_dict(self) -> dict:
        return {"time": self.time, "action": self.action, "section": self.section, "id": self.id, "file": self.file,
                "reason": self.reason, "before": self.before, "after": self.after, "version": self.version}


@dataclass
class _State:
    ledger: Ledger
    signature: tuple
    records: dict[tuple[str, str], dict] = field(default_factory=dict)


class LedgerEditor:
    """A ledger on disk, read on demand and changed one entry at a time.

    ``path`` is a YAML file or a folder of YAML files (None: the bundled dataset, always read-only).
    Other formats (JSON, CSV) can be read but not edited.  ``now`` gives the time for the change log.
    """

    def __init__(self, path: Path | str | None = None, read_only: bool = False,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.bundled = path is None
        self._given = None if path is None else Path(path)
        self.path = (bundled_path() if path is None else Path(path)).resolve()
        self.display = "ai-2025" if path is None else str(path)
        self.format = detect_format(self.path)
        self.folder = self.path if self.path.is_dir() else self.path.parent
        self.changelog = self.folder / (CHANGELOG_NAME if self.path.is_dir() else f".{self.path.name}.changes.jsonl")
        self._now = now
        self._lock = threading.RLock()
        self.generation = 0
        if self.bundled:
            self.read_only_reason: str | None = "the bundled dataset is read-only (copy it to edit it: loopscope convert ai-2025 my-deals/)"
        elif read_only:
            self.read_only_reason = "the server was started with --read-only"
        elif self.format != "yaml":
            self.read_only_reason = f"only YAML ledgers can be edited; this one is {self.format.upper()} (convert it first)"
        else:
            self.read_only_reason = None
        self.problems: list[Problem] = []  # of the files on disk, if a hand edit broke them
        self._state = self._load()

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    # ------------------------------------------------------------------ reading
    def _files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(p for p in self.path.rglob("*") if p.is_file() and p.suffix.lower() in (".yaml", ".yml", ".csv"))
        return [self.path]

    def _signature(self) -> tuple:
        out = []
        for file in self._files():
            try:
                stat = file.stat()
            except FileNotFoundError:
                continue
            out.append((str(file), stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(out))

    def _load(self, texts: dict[Path, str] | None = None) -> _State:
        signature = self._signature()
        return _State(Ledger.read(self._given, texts=texts), signature)

    def ledger(self) -> Ledger:
        """The current ledger (read again if a file changed on disk since)."""
        with self._lock:
            if self._signature() != self._state.signature:
                try:
                    self._state = self._load()
                    self.problems = []
                    self.generation += 1
                except LedgerError as exc:  # keep serving the last valid ledger, and say what is wrong
                    self.problems = exc.problems
                    self._state.signature = self._signature()
            return self._state.ledger

    def snapshot(self) -> tuple[Ledger, int]:
        """The current ledger and its generation, read together (a cache keyed on the generation must
        never hold results computed from another one)."""
        with self._lock:
            return self.ledger(), self.generation

    def record(self, section: str, ident: str) -> tuple[dict, str, str | None]:
        """An entry's canonical record, its version and the file it is in (relative to the folder)."""
        _check_section(section)
        ledger = self.ledger()
        entity = _find(ledger, section, ident)
        if entity is None:
            raise NotFound(f"no {SECTIONS[section][1]} {ident!r}")
        record = to_record(entity)
        return record, version_of(record), self._file_of(ledger, section, ident)

    def _file_of(self, ledger: Ledger, section: str, ident: str) -> str | None:
        if self.path.is_dir():
            return ledger.origins.get((section, ident))
        return self.path.name

    # ------------------------------------------------------------------ changing
    def create(self, section: str, record: dict, reason: str, file: str | None = None) -> Change:
        """Add a new entry (to ``file``, a YAML file of the ledger folder; by default where others of
        its kind are)."""
        return self._change("create", section, None, record, None, reason, file)

    def update(self, section: str, ident: str, record: dict, version: str | None, reason: str) -> Change:
        """Replace an entry (its id may not change) if it still has ``version``."""
        return self._change("update", section, ident, record, version, reason)

    def retire(self, section: str, ident: str, version: str | None, reason: str, day: date | None = None) -> Change:
        """Retire an entry: a deal gets a ``cancelled`` entry in its history (dated ``day``, by default
        today) and stays in the ledger; a figure is removed (the change log keeps it)."""
        _check_section(section)
        if section == "parties":
            raise EditError("parties are not retired (deals and figures refer to them); edit them instead")
        return self._change("retire", section, ident, None, version, reason, day=day)

    def _change(self, action: str, section: str, ident: str | None, record: dict | None, version: str | None,
                reason: str, file: str | None = None, day: date | None = None) -> Change:
        _check_section(section)
        if self.read_only_reason:
            raise ReadOnly(f"read-only: {self.read_only_reason}")
        if not isinstance(reason, str) or not reason.strip():
            raise Invalid("a reason is required", [Problem("(request)", None, None, None, "reason", "a reason for the change is required")])
        if record is not None and not isinstance(record, dict):
            raise Invalid("expected a mapping of fields", [Problem("(request)", None, SECTIONS[section][1], None, None,
                                                                   "expected a mapping of fields")])
        noun = SECTIONS[section][1]
        with self._lock:
            ledger = self.ledger()
            if self.problems:
                raise Conflict("the ledger's files have problems on disk; fix them first", None, None)
            before = None
            if ident is not None:
                entity = _find(ledger, section, ident)
                if entity is None:
                    raise NotFound(f"no {noun} {ident!r}")
                before = to_record(entity)
                current = version_of(before)
                if version != current:
                    raise Conflict(f"{noun} {ident} was changed since version {version} (now {current})", before, current)
            if action == "create":
                ident = record.get("id") if section != "rates" else None
                if not isinstance(ident, str) or not ident:
                    raise Invalid("the new entry needs an id", [Problem("(request)", None, noun, None, "id", "required field is missing")])
                if _find(ledger, section, ident) is not None:
                    raise Conflict(f"{noun} {ident} exists already", to_record(_find(ledger, section, ident)),
                                   version_of(to_record(_find(ledger, section, ident))))
                target = self._target_file(ledger, section, record, file)
            else:
                target = self._resolve(self._file_of(ledger, section, ident) or self.path.name)
            if action == "update" and record.get("id", ident) != ident:
                raise Invalid("the id cannot change", [Problem("(request)", None, noun, ident, "id",
                                                                 "the id of an entry cannot change (add a new entry instead)")])
            if action == "retire" and section == "deals":
                if before["history"][-1]["status"] in CLOSED_STATUSES:
                    raise Conflict(f"deal {ident} is already {before['history'][-1]['status']}", before, version_of(before))
                record = dict(before)
                record["history"] = list(before["history"]) + [
                    {"date": (day or self._now().date()), "status": "cancelled", "note": reason.strip()}]
            if record is not None:
                record = _canonical(section, record)
            text, bom = self._text(target)
            try:
                if action == "create":
                    new_text = append_entry(text, section, record)
                else:
                    index = self._index(text, section, ident, target)
                    new_text = remove_entry(text, section, index) if record is None else replace_entry(text, section, index, record)
            except SpliceError as exc:
                raise EditError(f"{self._relative(target)} cannot be edited safely: {exc}") from None
            try:
                state = self._load({target: new_text})
            except LedgerError as exc:
                raise Invalid(f"the change breaks {len(exc.problems)} rule(s)", exc.problems) from None
            after_entity = _find(state.ledger, section, ident)
            after = to_record(after_entity) if after_entity is not None else None
            self._check_only_change(ledger, state.ledger, section, ident, after, record)
            from .files import write_atomic

            write_atomic(target, bom + new_text)
            change = Change(self._now().isoformat(timespec="seconds"), action, section, ident, self._relative(target),
                            reason.strip(), before, after, version_of(after) if after is not None else None)
            self._log(change)
            # the files as read for validation, with the new stat of the one written: a hand edit of
            # another file meanwhile still differs from this and is read on the next request
            stat = target.stat()
            state.signature = tuple(sorted(
                [entry for entry in state.signature if entry[0] != str(target)] + [(str(target), stat.st_mtime_ns, stat.st_size)]))
            self._state = state
            self.generation += 1
            return change

    def _text(self, file: Path) -> tuple[str, str]:
        """A file's text and its byte-order mark ("" if none; a new file is empty)."""
        if not file.exists():
            return "", ""
        text, problem = read_text_file(file, self._relative(file))
        if problem is not None:
            raise EditError(str(problem))
        return text, "\ufeff" if file.read_bytes().startswith(b"\xef\xbb\xbf") else ""

    def _index(self, text: str, section: str, ident: str, file: Path) -> int:
        """The position of the entry in its file's section (matched by id as the reader reads it)."""
        from .yaml_format import read_text

        raw = read_text(text, str(file)).sections.get(section, [])
        for i, item in enumerate(raw):
            if isinstance(item, dict) and item.get("id") == ident:
                return i
        raise EditError(f"{SECTIONS[section][1]} {ident} was not found in {self._relative(file)}")

    def _target_file(self, ledger: Ledger, section: str, record: dict, file: str | None) -> Path:
        if file:
            target = self._resolve(file)
            if not target.is_file():
                raise EditError(f"{file}: no such file in the ledger (new entries go into an existing YAML file)")
            return target
        if not self.path.is_dir():
            return self.path
        # beside the entries most like it: deals of the same payer, figures of the same party, else the
        # file with most entries of the section
        key = {"deals": ("deals", "from", "src"), "figures": ("figures", "party", "party")}.get(section)
        if key is not None:
            for entity in reversed(getattr(ledger, section)):
                if getattr(entity, key[2]) == record.get(key[1]):
                    name = ledger.origins.get((section, entity_key(section, entity)))
                    if name:
                        return self._resolve(name)
        counts: dict[str, int] = {}
        for (sec, _), name in ledger.origins.items():
            if sec == section:
                counts[name] = counts.get(name, 0) + 1
        name = max(sorted(counts), key=lambda n: counts[n]) if counts else f"{section}.yaml"
        return self._resolve(name)

    def _resolve(self, name: str) -> Path:
        """A file of the ledger by its name; nothing outside the ledger's folder, nothing but YAML."""
        if not isinstance(name, str) or "\x00" in name or name.startswith(("/", "\\")) or ":" in name:
            raise EditError(f"{name!r} is not a file of this ledger")
        target = (self.folder / name).resolve()
        if target.suffix.lower() not in (".yaml", ".yml") or not target.is_relative_to(self.folder) or target.name.startswith("."):
            raise EditError(f"{name!r} is not a file of this ledger")
        if not self.path.is_dir() and target != self.path:
            raise EditError(f"{name!r} is not a file of this ledger")
        return target

    def _relative(self, file: Path) -> str:
        return file.relative_to(self.folder).as_posix()

    def _check_only_change(self, old: Ledger, new: Ledger, section: str, ident: str, after: dict | None,
                           record: dict | None) -> None:
        """The ledger read back must be the old one with exactly this change: nothing lost or altered."""
        from .model import SECTIONS as models

        if record is not None:
            expected = to_record(models[section][0].model_validate(record))
            if after != expected:
                raise EditError("internal error: the entry would not read back as written; nothing was written")
        for name in SECTIONS:
            before = {entity_key(name, e): to_record(e) for e in getattr(old, name)}
            now = {entity_key(name, e): to_record(e) for e in getattr(new, name)}
            if name == section:
                before.pop(ident, None)
                now.pop(ident, None)
            if before != now:
                raise EditError("internal error: the change would alter other entries; nothing was written")

    def _log(self, change: Change) -> None:
        line = json.dumps(jsonable(change.to_dict()), ensure_ascii=False, sort_keys=False) + "\n"
        fd = os.open(self.changelog, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def changes(self, limit: int = 100, section: str | None = None, ident: str | None = None) -> list[dict]:
        """The latest changes, newest first (a torn last line from a crash is skipped)."""
        if not self.changelog.exists():
            return []
        out = []
        with open(self.changelog, encoding="utf-8") as handle:
            for line in handle:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if (section is None or entry.get("section") == section) and (ident is None or entry.get("id") == ident):
                    out.append(entry)
        return out[::-1][:limit]

    def files(self) -> list[str]:
        """The ledger's YAML files new entries can go to."""
        if not self.path.is_dir():
            return [self.path.name]
        return [p.relative_to(self.folder).as_posix() for p in self._files() if p.suffix.lower() in (".yaml", ".yml")]


def _canonical(section: str, record: dict) -> dict:
    """A valid record in canonical form (dates as dates, keys in order); an invalid one as given, so
    that reading it reports its problems exactly as ``loopscope validate`` would."""
    from pydantic import ValidationError

    try:
        return to_record(SECTIONS[section][0].model_validate(record))
    except ValidationError:
        return record


def _check_section(section: str) -> None:
    if section not in EDITABLE:
        raise NotFound(f"unknown section {section!r} (expected one of: {', '.join(EDITABLE)})")


def _find(ledger: Ledger, section: str, ident: str):
    for entity in getattr(ledger, section):
        if entity_key(section, entity) == ident:
            return entity
    return None


__all__ = ["LedgerEditor", "Change", "EditError", "ReadOnly", "NotFound", "Conflict", "Invalid", "version_of", "sections"]
