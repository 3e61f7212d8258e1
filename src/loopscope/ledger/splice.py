"""Editing one entry of a YAML ledger file in place, leaving every other byte as it was.

Rewriting a whole file through the canonical writer would reformat entries nobody touched (and
drop their comments).  Instead, the file is composed with PyYAML, whose nodes carry line marks;
the lines of the one entry that changes are cut out and the entry's canonical text goes in their
place.  Blank lines and comments between entries stay with the surrounding text; comments inside
the edited entry are lost with it (the entry is rewritten in canonical form).

Line breaks are counted as PyYAML counts them (``\\r\\n``, ``\\r``, ``\\n``, NEL, LS, PS), so the
marks and the cut agree; new lines use the file's own line ending.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from .locate import compose
from .yaml_format import dump_items

_BREAK = re.compile("(\r\n|\r|\n|\x85|\u2028|\u2029)")


class SpliceError(ValueError):
    """The file's structure does not allow an entry to be cut out safely."""


@dataclass(frozen=True)
class Section:
    """Where a section sits in the file: its key's line, its items' line spans, the dash column."""

    key_line: int
    value_end: int  # first line after the section's value
    items: tuple[tuple[int, int], ...]  # [start, end) line spans, comments around an item excluded
    indent: int
    block: bool  # a block sequence (items on their own lines), not ``[]`` or empty
    items_in_flow: int = 0  # entries of a flow-style list (``[{...}, {...}]``), which are not spliced


def split_lines(text: str) -> list[str]:
    """The lines of ``text``, each with its line break (the last may have none)."""
    parts = _BREAK.split(text)
    lines = [parts[i] + (parts[i + 1] if i + 1 < len(parts) else "") for i in range(0, len(parts), 2)]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_ending(text: str) -> str:
    found = _BREAK.search(text)
    return found.group(0) if found and found.group(0) in ("\r\n", "\r") else "\n"


def _end_line(mark: yaml.Mark) -> int:
    """The first line after a node that ends at ``mark`` (marks point just past the node)."""
    return mark.line if mark.column == 0 else mark.line + 1


def _last_line(node: yaml.Node) -> int:
    """The first line after the node's own content (trailing comments and blank lines excluded)."""
    if isinstance(node, yaml.ScalarNode) or getattr(node, "flow_style", False):
        return _end_line(node.end_mark)
    children: list[yaml.Node] = []
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            children += [key, value]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    if not children:
        return _end_line(node.end_mark)
    return max(_last_line(child) for child in children)


def sections(text: str) -> dict[str, Section]:
    """The sections of a ledger file and the line spans of their entries."""
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        raise SpliceError(f"the file is not valid YAML ({exc.__class__.__name__})") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise SpliceError("the file is not a mapping of sections")
    lines = split_lines(text)
    found: dict[str, Section] = {}
    for key, value in root.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name is None:
            continue
        if isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            spans = []
            for item in value.value:
                start = item.start_mark.line
                # the dash may stand alone on the line above a block mapping
                if not lines[start][: item.start_mark.column].strip().startswith("-"):
                    while start > 0 and not lines[start - 1].strip().startswith("-"):
                        start -= 1
                    start -= 1
                spans.append((start, _last_line(item)))
            dash = lines[spans[0][0]]
            indent = len(dash) - len(dash.lstrip(" "))
            found[name] = Section(key.start_mark.line, _last_line(value), tuple(spans), indent, True)
        else:
            flow_items = len(value.value) if isinstance(value, yaml.SequenceNode) else 0
            found[name] = Section(key.start_mark.line, _last_line(value), (), 0, False, flow_items)
    return found


def _entry_lines(section: str, record: dict, indent: int, newline: str) -> list[str]:
    return [line + newline for line in dump_items(section, [record], indent)]


def replace_entry(text: str, section: str, index: int, record: dict) -> str:
    """``text`` with entry ``index`` of ``section`` replaced by ``record`` (canonical form)."""
    lines = split_lines(text)
    where = _section(text, section)
    if not 0 <= index < len(where.items):
        raise SpliceError(f"{section} has no entry {index}")
    start, end = where.items[index]
    new = _entry_lines(section, record, where.indent, line_ending(text))
    return "".join(lines[:start] + new + lines[end:])


def remove_entry(text: str, section: str, index: int) -> str:
    """``text`` without entry ``index`` of ``section``; the section key stays (as an empty list if
    it was the last entry)."""
    lines = split_lines(text)
    where = _section(text, section)
    if not 0 <= index < len(where.items):
        raise SpliceError(f"{section} has no entry {index}")
    start, end = where.items[index]
    if len(where.items) == 1:
        newline = line_ending(text)
        key = lines[where.key_line]
        head = key[: key.index(section) + len(section)] + ": []" + newline
        return "".join(lines[: where.key_line] + [head] + lines[end:])
    return "".join(lines[:start] + lines[end:])


def append_entry(text: str, section: str, record: dict) -> str:
    """``text`` with ``record`` added as the last entry of ``section`` (the section is created at the
    end of the file if it is missing)."""
    newline = line_ending(text)
    lines = split_lines(text)
    found = sections(text)
    where = found.get(section)
    if where is not None and where.block:
        end = where.items[-1][1]
        head = lines[:end]
        if head and not head[-1].endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
            head[-1] += newline  # the last entry ended the file without a line break
        return "".join(head + _entry_lines(section, record, where.indent, newline) + lines[end:])
    body = [f"{section}:{newline}"] + _entry_lines(section, record, 0, newline)
    if where is not None:  # ``deals: []`` or an empty ``deals:``
        if where.items_in_flow:
            raise SpliceError(f"{section} is written in flow style ([...]); write it as a block list to add entries")
        return "".join(lines[: where.key_line] + body + lines[where.value_end:])
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    if lines and lines[-1].strip():
        body.insert(0, newline)
    return "".join(lines + body)


def _section(text: str, section: str) -> Section:
    found = sections(text).get(section)
    if found is None or not found.block:
        raise SpliceError(f"the file has no entries in {section}")
    return found
