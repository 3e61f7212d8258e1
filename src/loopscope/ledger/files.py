"""Finding, reading and writing ledgers on disk in every format.

=================  ==========================================================
path               format
=================  ==========================================================
``x.yaml``         one YAML file (canonical, hand-edited)
folder of yaml     every ``*.yaml``/``*.yml`` below it, in path order
``x.json``         one JSON file
folder with csv    ``parties.csv``, ``deals.csv``, ``figures.csv``, ``sources.csv``, ``rates.csv``
=================  ==========================================================
"""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path

from . import csv_format, json_format, yaml_format
from .build import Built, RawDocument, build
from .problems import LedgerError, Problem

FORMATS = ("yaml", "json", "csv")


def bundled_path(name: str = "ai-2025") -> Path:
    """The folder of a dataset that ships with loopscope."""
    return Path(__file__).resolve().parent.parent / "data" / name


def detect_format(path: Path) -> str:
    """The format of an existing ledger path."""
    if path.is_dir():
        if any((path / name).exists() for name in csv_format.FILES.values()):
            return "csv"
        return "yaml"
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    raise LedgerError([Problem(str(path), None, None, None, None,
                               "unknown ledger format (expected a .yaml or .json file, or a folder of YAML or CSV files)")])


def read(path: Path | str, display: str | None = None,
         texts: dict[Path, str] | None = None) -> tuple[Built, dict[str, str]]:
    """Read and validate a ledger; returns the entities and, for YAML folders, each file's name
    relative to the folder (so that saving writes entities back where they came from).

    ``texts`` stands in for the contents of some YAML files (resolved paths), so that an edit can
    be validated exactly as the files would be read once written.

    The cyclic garbage collector is paused meanwhile: reading creates millions of small objects
    and no cycles, and the collector's repeated full scans would otherwise double the time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(Path(path), display, texts or {})
    finally:
        if enabled:
            gc.enable()


def _read(path: Path, display: str | None, texts: dict[Path, str]) -> tuple[Built, dict[str, str]]:
    display = display or str(path)
    if not path.exists():
        raise LedgerError([Problem(display, None, None, None, None, "no such file or folder")])
    fmt = detect_format(path)
    relative: dict[str, str] = {}
    documents: list[RawDocument] = []
    if fmt == "csv":
        documents = csv_format.read_folder(path, display)
    elif path.is_dir():
        files = [p for p in path.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and p.is_file()]
        present = {p.resolve() for p in files}
        base = path.resolve()
        files += [path / p.relative_to(base) for p in texts if p not in present and p.is_relative_to(base)]  # new files
        files.sort()
        if not files:
            raise LedgerError([Problem(display, None, None, None, None, "folder holds no .yaml or .csv ledger files")])
        for file in files:
            name = file.relative_to(path).as_posix()
            shown = f"{display.rstrip('/')}/{name}"
            relative[shown] = name
            documents.append(_read_text_file(file, shown, yaml_format.read_text, texts))
    else:
        reader = yaml_format.read_text if fmt == "yaml" else json_format.read_text
        documents.append(_read_text_file(path, display, reader, texts))
    return build(documents), relative


def read_text_file(path: Path, display: str) -> tuple[str | None, Problem | None]:
    """A file's text (UTF-8, optional BOM, line ends untouched), or the problem that prevents it."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, Problem(display, line, None, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _read_text_file(path: Path, display: str, reader, texts: dict[Path, str] | None = None) -> RawDocument:
    if texts and path.resolve() in texts:
        return reader(texts[path.resolve()], display)
    text, problem = read_text_file(path, display)
    if problem is not None:
        return RawDocument(display, {}, lambda _: None, problems=[problem])
    return reader(text, display)


def write_atomic(path: Path, text: str) -> None:
    """Write a text file so that a crash leaves either the old or the new file, never half of one.

    The file keeps its permissions if it exists; a new one gets the usual ``0o666`` less the umask
    (a temporary file alone would be private, ``0o600``).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_folder(path.parent)  # the rename itself survives a power cut
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform that cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def target_format(path: Path, fmt: str | None) -> str:
    """The format to write ``path`` in: given, or from the suffix (a folder is YAML unless told)."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        return "yaml"
    if suffix == ".json":
        return "json"
    if path.is_dir() and any((path / name).exists() for name in csv_format.FILES.values()):
        return "csv"
    return "yaml"
