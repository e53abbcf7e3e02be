"""Selective disclosure of body fields: the IETF SD-JWT idea, without JWTs.

A private field is taken out of the record's body and replaced by the digest of a
**disclosure**, a JSON array ``[salt, name, value]`` (an object member) or ``[salt, value]`` (an
array item). The digest is ``0x`` + hex of SHA-256 over the disclosure's RFC 8785 bytes; ``salt``
is 16 random bytes as ``0x`` hex, so the digest of a guessable value ("25", a common name)
cannot be confirmed by guessing. An object's hidden members are listed in its ``"_sd"`` key,
sorted, together with optional decoy digests, so the list tells nothing but an upper bound on
how many members are hidden; a hidden array item becomes ``{"...": digest}`` in its place. The
body says ``"_sd_alg": "sha-256-jcs"`` at its top when it has hidden fields. The record (and so
the anchor, the outbox and every bundle flush writes) holds only the digests.

The producer keeps the disclosures in its state folder (:func:`disclosure_file`, mode 600,
never anchored). A bundle reveals fields by carrying their disclosures in its top-level
``"disclosures"`` list (outside the record, so the record's digest is unchanged); verification
checks each against a digest of the record (:func:`resolve`). Anyone holding a bundle can drop
disclosures from it, nobody can add or change one without the digest check failing.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DisclosureMismatch, UsageError
from .atomicfile import write_private
from .hexutil import to_0x
from .record import canonical_bytes

SD_KEY = "_sd"
"""The key of an object's list of hidden-member digests."""
ITEM_KEY = "..."
"""The only key of an object standing for a hidden array item."""
ALG_KEY = "_sd_alg"
ALG = "sha-256-jcs"
"""SHA-256 over the RFC 8785 canonical JSON of the disclosure array."""
RESERVED = frozenset({SD_KEY, ITEM_KEY, ALG_KEY})
SALT_BYTES = 16
FILE_FORMAT = "bctrace-disclosures-v1"
MAX_DISCLOSURES = 10_000

Path_ = tuple[str | int, ...]
_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]|(\.)")


def parse_path(text: str) -> Path_:
    """``a.b``, ``items[2]``, ``items[2].name`` -> ``("a", "b")``, ``("items", 2)``, ...

    Member names containing ``.``, ``[`` or ``]`` cannot be named this way."""
    steps: list[str | int] = []
    pos = 0
    expect_name = True
    for m in _STEP.finditer(text):
        if m.start() != pos:
            break
        pos = m.end()
        if m.group(1) is not None:
            if not expect_name:
                break
            steps.append(m.group(1))
            expect_name = False
        elif m.group(2) is not None:
            if expect_name:
                break
            steps.append(int(m.group(2)))
        else:
            if expect_name:
                break
            expect_name = True
    if not text or pos != len(text) or expect_name or not isinstance(steps[0], str):
        raise UsageError(f"field {text!r} is not a field path such as amount, donor.name or items[2]")
    return tuple(steps)


def format_path(path: Path_) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else step)
    return out


def disclosure_digest(disclosure: Sequence[Any]) -> str:
    """``0x`` hex SHA-256 of the disclosure's RFC 8785 bytes."""
    return to_0x(hashlib.sha256(canonical_bytes(list(disclosure))).digest())


@dataclass
class Hidden:
    """Where a record's body has values that are not disclosed."""

    path: str
    """The object (``""`` for the body itself) or array item (``items[2]``)."""
    count: int
    """For an object: undisclosed digests in its ``_sd`` (hidden members and decoys)."""

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path or "body", "count": self.count}


@dataclass
class Resolved:
    """A body with its disclosures applied: what a verifier may read."""

    body: dict[str, Any]
    """The body as revealed: disclosed values in their places, digests and ``_sd_alg`` removed."""
    revealed: dict[str, Any] = field(default_factory=dict)
    """Field path -> value, for every field a disclosure revealed (checked against its digest)."""
    hidden: list[Hidden] = field(default_factory=list)
    disclosures: dict[str, Any] = field(default_factory=dict)
    """Field path -> the disclosure array that revealed it."""

    def to_dict(self) -> dict[str, Any]:
        return {"revealed": self.revealed, "hidden": [h.to_dict() for h in self.hidden]}


def has_private(body: dict[str, Any]) -> bool:
    return ALG_KEY in body


def make_private(body: dict[str, Any], paths: Iterable[str | Path_], *, decoys: int = 0) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The body with the fields at ``paths`` replaced by disclosure digests, and the producer's
    disclosures (``{"path": "a.b", "disclosure": [salt, "b", value]}``).

    Deeper paths are hidden first, so a private field inside a private field is a disclosure
    inside a disclosure: revealing ``a.b`` needs ``a`` revealed as well. ``decoys`` random
    digests are added to every ``_sd`` list made."""
    if decoys < 0:
        raise UsageError("decoys must be 0 or more")
    wanted = {p if isinstance(p, tuple) else parse_path(p) for p in paths}
    if not wanted:
        return body, []
    if ALG_KEY in body:
        raise UsageError(f"record body: already has {ALG_KEY!r}: its private fields were hidden before")
    out = copy.deepcopy(body)
    made: list[dict[str, Any]] = []
    objects: list[dict[str, Any]] = []
    for path in sorted(wanted, key=lambda p: (-len(p), format_path(p))):
        shown = format_path(path)
        parent: Any = out
        for step in path[:-1]:
            parent = _child(parent, step, shown)
        last = path[-1]
        salt = to_0x(secrets.token_bytes(SALT_BYTES))
        if isinstance(last, str):
            if not isinstance(parent, dict) or last not in parent:
                raise UsageError(f"private field {shown!r}: the body has no such field")
            if last in RESERVED:
                raise UsageError(f"private field {shown!r}: {last!r} is reserved for selective disclosure")
            disclosure: list[Any] = [salt, last, parent.pop(last)]
            sd = parent.setdefault(SD_KEY, [])
            if not isinstance(sd, list) or any(not isinstance(d, str) for d in sd):
                raise UsageError(f"private field {shown!r}: the body already has a {SD_KEY!r} key of its own")
            sd.append(disclosure_digest(disclosure))
            if all(o is not parent for o in objects):
                objects.append(parent)
        else:
            if not isinstance(parent, list) or last >= len(parent):
                raise UsageError(f"private field {shown!r}: the body has no such array item")
            disclosure = [salt, parent[last]]
            parent[last] = {ITEM_KEY: disclosure_digest(disclosure)}
        made.append({"path": shown, "disclosure": disclosure})
    for obj in objects:
        obj[SD_KEY] = sorted([*obj[SD_KEY], *(to_0x(secrets.token_bytes(32)) for _ in range(decoys))])
    out[ALG_KEY] = ALG
    return out, made


def _child(parent: Any, step: str | int, shown: str) -> Any:
    if isinstance(step, str) and isinstance(parent, dict) and step in parent:
        return parent[step]
    if isinstance(step, int) and isinstance(parent, list) and step < len(parent):
        return parent[step]
    raise UsageError(f"private field {shown!r}: the body has no such field")


def resolve(body: dict[str, Any], disclosures: Sequence[Any], source: str = "bundle") -> Resolved:
    """Check every disclosure against a digest of ``body`` and put revealed values in place.

    Raises :class:`DisclosureMismatch` (exit 1) when a disclosure is not of the documented
    shape, matches no digest (its value, name or salt was changed, or it belongs to another
    record), is given twice, or reveals a member the object already has in clear."""
    if body.get(ALG_KEY, ALG) != ALG:
        raise DisclosureMismatch(f"{source}: body.{ALG_KEY} is {body[ALG_KEY]!r}; this bctrace checks {ALG!r} disclosures")
    if len(disclosures) > MAX_DISCLOSURES:
        raise DisclosureMismatch(f"{source}: more than {MAX_DISCLOSURES} disclosures")
    by_digest: dict[str, list[Any]] = {}
    for i, d in enumerate(disclosures):
        _check_shape(d, f"{source}: disclosures[{i}]")
        try:
            digest = disclosure_digest(d)
        except ValueError as err:
            raise DisclosureMismatch(f"{source}: disclosures[{i}] is not canonical JSON: {err}") from None
        if digest in by_digest:
            raise DisclosureMismatch(f"{source}: disclosures[{i}] is given twice")
        by_digest[digest] = d
    resolved = Resolved(body={})
    used: set[str] = set()
    resolved.body = _walk(body, (), by_digest, used, resolved, source)
    resolved.body.pop(ALG_KEY, None)
    for digest, d in by_digest.items():
        if digest not in used:
            what = f"field {d[1]!r}" if len(d) == 3 else "an array item"
            raise DisclosureMismatch(f"{source}: the disclosure of {what} matches no digest in the record "
                                     "(its value, name or salt was changed, or it is another record's)")
    return resolved


def _check_shape(d: Any, where: str) -> None:
    ok = isinstance(d, list) and len(d) in (2, 3) and isinstance(d[0], str) and (len(d) == 2 or isinstance(d[1], str))
    if not ok:
        raise DisclosureMismatch(f"{where} is not [salt, name, value] or [salt, value] (strings for salt and name)")
    if len(d) == 3 and d[1] in RESERVED:
        raise DisclosureMismatch(f"{where} names reserved member {d[1]!r}")


def _walk(value: Any, path: Path_, by_digest: dict[str, list[Any]], used: set[str], out: Resolved, source: str) -> Any:
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, member in value.items():
            if key != SD_KEY:
                result[key] = _walk(member, (*path, key), by_digest, used, out, source)
        digests = value.get(SD_KEY)
        if digests is None:
            return result
        if not isinstance(digests, list):
            raise DisclosureMismatch(f"{source}: {format_path((*path, SD_KEY)) if path else SD_KEY} is not a list of digests")
        hidden = 0
        for digest in digests:
            d = by_digest.get(digest) if isinstance(digest, str) else None
            if d is None or len(d) != 3:
                hidden += 1
                continue
            _use(digest, used, source)
            name = d[1]
            if name in result:
                raise DisclosureMismatch(f"{source}: the disclosure of {format_path((*path, name))!r} names a member the record has in clear")
            result[name] = _walk(d[2], (*path, name), by_digest, used, out, source)
            shown = format_path((*path, name))
            out.revealed[shown] = result[name]
            out.disclosures[shown] = d
        if hidden:
            out.hidden.append(Hidden(format_path(path), hidden))
        return result
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            here = (*path, i)
            if isinstance(item, dict) and list(item) == [ITEM_KEY]:
                digest = item[ITEM_KEY]
                d = by_digest.get(digest) if isinstance(digest, str) else None
                if d is None or len(d) != 2:
                    out.hidden.append(Hidden(format_path(here), 1))
                    items.append(item)
                    continue
                _use(digest, used, source)
                items.append(_walk(d[1], here, by_digest, used, out, source))
                out.revealed[format_path(here)] = items[-1]
                out.disclosures[format_path(here)] = d
            else:
                items.append(_walk(item, here, by_digest, used, out, source))
        return items
    return value


def _use(digest: str, used: set[str], source: str) -> None:
    if digest in used:
        raise DisclosureMismatch(f"{source}: digest {digest} appears twice in the record")
    used.add(digest)


def select(resolved: Resolved, fields: Iterable[str]) -> list[Any]:
    """The disclosures that reveal ``fields`` (with the ones of their hidden ancestors and of
    everything hidden inside them), in field-path order."""
    chosen: dict[str, Any] = {}
    for text in fields:
        path = parse_path(text)
        shown = format_path(path)
        matched = False
        for where, d in resolved.disclosures.items():
            other = parse_path(where)
            if other == path[: len(other)] or other[: len(path)] == path:
                chosen[where] = d
                matched |= len(other) >= len(path)
        if not matched and not present(resolved.body, path):
            raise UsageError(f"field {shown!r}: no such field, or its disclosure is not available here"
                             + (f" (available: {', '.join(sorted(resolved.disclosures))})" if resolved.disclosures else ""))
    return [chosen[k] for k in sorted(chosen)]


def present(body: Any, path: Path_ | str) -> bool:
    """Whether ``body`` has a value in clear at ``path``."""
    if isinstance(path, str):
        path = parse_path(path)
    for step in path:
        if isinstance(step, str) and isinstance(body, dict) and step in body:
            body = body[step]
        elif isinstance(step, int) and isinstance(body, list) and step < len(body) and not (
                isinstance(body[step], dict) and list(body[step]) == [ITEM_KEY]):
            body = body[step]
        else:
            return False
    return True


# -- the producer's copy ---------------------------------------------------------------------


def disclosure_file(state_dir: Path, body: dict[str, Any]) -> Path:
    """Where the producer keeps the disclosures of a body as recorded (with its digests):
    ``STATE_DIR/disclosures/<0x sha256 of the body's RFC 8785 bytes>.json``. Keyed by the body,
    not the record's digest, so the file is written before the record is (a crash in between
    never leaves a record whose private values are lost)."""
    return state_dir / "disclosures" / f"{to_0x(hashlib.sha256(canonical_bytes(body)).digest())}.json"


def keep(state_dir: Path, body: dict[str, Any], made: list[dict[str, Any]]) -> Path:
    """Write the producer's disclosures, readable by the owner only (mode 600).

    Not fsynced: as durable as the outbox's records (SQLite WAL, ``synchronous=NORMAL``), which
    survive a crashed process; an fsync per record made bulk recording about 8x slower
    (``benchmarks/bench_private_fields.py``)."""
    text = json.dumps({"format": FILE_FORMAT, "disclosures": made}, ensure_ascii=False) + "\n"
    return write_private(disclosure_file(state_dir, body), text.encode(), sync=False)


def kept(state_dir: Path, body: dict[str, Any]) -> list[Any]:
    """The producer's disclosures of ``body`` (none when this state folder did not record it)."""
    path = disclosure_file(state_dir, body)
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [entry["disclosure"] for entry in data["disclosures"]]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UsageError(f"disclosure file {path} cannot be read: {err}") from None
