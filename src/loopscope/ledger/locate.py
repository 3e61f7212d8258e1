"""Line numbers for paths in YAML and JSON text.

The fast parser (yaml-rs) gives values but no positions.  Positions are needed only when there is
something to report, so this module composes the text again with PyYAML (whose nodes carry
marks) the first time a line is asked for, and answers every later question from that tree.
JSON is YAML, so the same code serves both.
"""

from __future__ import annotations

from typing import Any

import yaml

try:  # the C composer is much faster; fall back to pure Python where libyaml is missing
    _Loader = yaml.CSafeLoader  # type: ignore[attr-defined]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


def compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


class TextLocator:
    """``locator(path)``: the 1-based line of the node at ``path``, or of its nearest ancestor."""

    def __init__(self, text: str):
        self._text = text
        self._root: Any = None
        self._composed = False

    def _tree(self) -> Any:
        if not self._composed:
            self._composed = True
            try:
                self._root = compose(self._text)
            except yaml.YAMLError:
                self._root = None
        return self._root

    def __call__(self, path: tuple) -> int | None:
        node = self._tree()
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                for key, value in node.value:
                    if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                        child = (key, value)
                        break
                if child is not None:
                    key, node = child
                    line = key.start_mark.line + 1  # the line that names the field
                    continue
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
                continue
            break
        return line


def duplicate_keys(text: str) -> list[tuple[int, str, int]]:
    """Every repeated key in any mapping: (line, key, line of its first occurrence)."""
    try:
        root = compose(text)
    except yaml.YAMLError:
        return []
    found: list[tuple[int, str, int]] = []
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
                line = key.start_mark.line + 1
                if name in seen:
                    found.append((line, name, seen[name]))
                else:
                    seen[name] = line
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return sorted(found)
