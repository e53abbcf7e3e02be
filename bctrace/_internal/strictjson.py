"""Strict JSON: read only what every JSON reader reads the same way.

Python's ``json`` accepts input that other readers understand differently, which would let one
bundle mean two things: duplicate keys (Python keeps the last value, a JavaScript viewer may show
the first), ``NaN``/``Infinity`` (not JSON at all), number literals whose exact value no IEEE-754
double holds (Python keeps ``10000000000000001`` exact, JavaScript reads ``1e16``), and lone
surrogates (not Unicode). RFC 8785 treats every number as a double, so bctrace does too: a number
means the double it parses to, and a literal is accepted only when its exact decimal value is
that double's shortest round-trip spelling (``0.1``, ``1e+21``, ``10000000000000000``), so a
reader with doubles and a reader with exact decimals see the same value.

Limits on size and nesting keep a hostile file from exhausting memory or the stack.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from itertools import accumulate
from typing import Any

MAX_DEPTH = 100
"""Deepest nesting of arrays and objects accepted (a record's body included)."""

SAFE_INTEGER = 2**53
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_MAX_NUMBER_DIGITS = 400
"""No double needs more digits than this (the largest is about 1.8e308)."""


class JsonProblem(ValueError):
    """Input that is not strict JSON; ``where`` is a path such as ``record.body.x`` when known."""

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class DuplicateKey(JsonProblem):
    """An object has the same key twice: readers disagree on which value counts."""


class _Duplicated(dict[str, Any]):
    """An object that had a duplicate key (kept to find its path after parsing)."""

    key: str


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    seen: set[str] = set()
    marked = _Duplicated(out)
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def number_problem(literal: str) -> str | None:
    """Why a JSON number literal is refused (see the module docstring), or ``None``."""
    digits = len(literal)
    if digits > _MAX_NUMBER_DIGITS:
        return f"a number of {digits} characters is beyond any JSON number (IEEE-754 double)"
    try:
        value = float(literal)
    except (ValueError, OverflowError):
        return f"{literal[:40]} is not a number"
    if not math.isfinite(value):
        return f"{literal[:40]} is beyond the largest JSON number (IEEE-754 double)"
    if Decimal(literal) != Decimal(repr(value)):
        return (f"{literal[:40]} is not exactly a JSON number (an IEEE-754 double): readers would see "
                f"{repr(value)} or {literal[:40]}")
    return None


def _parse_int(literal: str) -> int:
    if len(literal) > 15:  # up to 15 digits every integer is exactly a double
        problem = number_problem(literal)
        if problem:
            raise JsonProblem(problem)
    return int(literal)


def _parse_float(literal: str) -> float:
    problem = number_problem(literal)
    if problem:
        raise JsonProblem(problem)
    return float(literal)


def _constant(name: str) -> Any:
    raise JsonProblem(f"{name} is not a JSON value (JSON has no NaN or Infinity; record it as a string)")


class _Repeated(Exception):
    """A key appeared twice; :func:`loads` parses again, marking, to name where."""


def _object_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Repeated
    return out


_DECODER = json.JSONDecoder(object_pairs_hook=_object_once, parse_int=_parse_int, parse_float=_parse_float,
                            parse_constant=_constant)
"""Built once (``json.loads`` with hooks builds a decoder and a scanner on every call); like the
standard library's default decoder it holds no state between calls, so threads may share it."""


def loads(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` strictly; raises :class:`JsonProblem` (or :class:`DuplicateKey`) naming the
    place where it can. ``json.JSONDecodeError`` (also a ``ValueError``) is raised for syntax.

    A valid text is parsed once with hooks that raise at the first problem; only a refused text
    is parsed again (:func:`_loads_explained`) to find the path of what was wrong."""
    if nesting(text, at_most=max_depth) > max_depth:  # before json.loads: its C recursion could exhaust the stack
        raise JsonProblem(f"nested deeper than {max_depth} levels")
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise JsonProblem(f"nested deeper than {max_depth} levels") from None
    except (_Repeated, JsonProblem):
        return _loads_explained(text, max_depth)
    if "\\u" in text and _ESCAPED_SURROGATE.search(text):  # walk the tree only to name the place
        check_tree(value, max_depth=max_depth)
    return value


def _loads_explained(text: str, max_depth: int) -> Any:
    """Parse a text :func:`loads` refused again, marking objects with a repeated key, and raise
    the problem with its path (the first refused number, else the first repeated key)."""
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_parse_int, parse_float=_parse_float,
                           parse_constant=_constant)
    except JsonProblem as err:
        raise JsonProblem(str(err), _path_of_refused(text)) from None
    check_tree(value, max_depth=max_depth)
    return value  # pragma: no cover - check_tree raises on the marked duplicate


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting(text: str, *, at_most: int = 0) -> int:
    """How deep arrays and objects nest in JSON ``text`` (brackets inside strings ignored),
    computed without recursion and at C speed (regex, map, accumulate). With ``at_most``, any
    answer up to it may stand for a smaller depth (fewer brackets than that cannot nest deeper)."""
    opening = text.count("[") + text.count("{")
    if opening <= max(1, at_most):
        return min(1, opening) if not at_most else opening
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


class _Refused:
    """Stands in for a refused value, to find its path in a second parse."""


def _path_of_refused(text: str) -> str | None:
    """Where the first value the hooks refused sits (hooks cannot know their path)."""
    marker = _Refused()

    def mark(literal: str) -> Any:
        return marker if number_problem(literal) else 0

    try:
        tree = json.loads(text, parse_int=lambda s: mark(s) if len(s) > 15 else 0, parse_float=mark,
                          parse_constant=lambda s: marker)
    except (ValueError, RecursionError):
        return None
    return path_to(tree, marker)


def check_tree(value: Any, *, max_depth: int = MAX_DEPTH, surrogates: bool = True) -> None:
    """Nesting depth, duplicate-key marks and (when ``surrogates``) lone surrogates, without
    recursion, so that any depth is safe to check."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if isinstance(node, _Duplicated):
                raise DuplicateKey(f"key '{printable(node.key)}' appears twice in one object", path_to(value, node))
            if depth >= max_depth:
                raise JsonProblem(f"nested deeper than {max_depth} levels")
            if surrogates:
                for key in node:
                    _check_text(key, value)
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            if depth >= max_depth:
                raise JsonProblem(f"nested deeper than {max_depth} levels")
            stack.extend((v, depth + 1) for v in node)
        elif surrogates and isinstance(node, str):
            _check_text(node, value)


def _check_text(text: str, root: Any) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise JsonProblem("a string holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text",
                          path_to(root, text)) from None


def printable(key: str, limit: int = 80) -> str:
    """A key as it may appear in a one-line error: controls and surrogates escaped, shortened."""
    shown = "".join(c if c.isprintable() and not 0xD800 <= ord(c) <= 0xDFFF else f"\\u{ord(c):04x}" for c in key[:limit])
    return shown + ("…" if len(key) > limit else "")


def path_to(root: Any, target: Any) -> str | None:
    """The path (``a.b[2].c``) of the first node that is ``target``, for error messages."""
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if node is target:
            return path or None
        if isinstance(node, dict):
            for k, v in node.items():
                if k is target:
                    return f"{path}.{printable(k)}".lstrip(".") + " (key)"
                stack.append((v, f"{path}.{printable(k)}".lstrip(".")))
        elif isinstance(node, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(node))
    return None


def check_value(value: Any, where: str, *, max_depth: int = MAX_DEPTH) -> None:
    """Refuse, before anything is written, a Python value that would not read back as itself
    from strict JSON: a non-finite float, an integer that is not exactly its double's shortest
    spelling (2**53 + 1, 2**60), a non-string key, a lone surrogate, or too deep a nesting."""
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, bool) or node is None:
            continue
        if isinstance(node, int):
            if abs(node) > SAFE_INTEGER:
                problem = "beyond any JSON number" if node.bit_length() > 1100 else number_problem(str(node))
                if problem:
                    raise JsonProblem(f"{problem}; record it as a string", path)
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise JsonProblem(f"{node} is not a JSON number; record it as a string", path)
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonProblem("holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text", path) from None
        elif isinstance(node, (dict, list, tuple)):
            if depth >= max_depth:
                raise JsonProblem(f"nested deeper than {max_depth} levels", path)
            if isinstance(node, dict):
                for k, v in node.items():
                    if not isinstance(k, str):
                        raise JsonProblem(f"key {k!r} is not a string (JSON keys are strings)", path)
                    stack.append((k, f"{path}.{printable(k)} (key)", depth + 1))
                    stack.append((v, f"{path}.{printable(k)}", depth + 1))
            else:
                stack.extend((v, f"{path}[{i}]", depth + 1) for i, v in enumerate(node))
        else:
            raise JsonProblem(f"a {type(node).__name__} is not a JSON value", path)
