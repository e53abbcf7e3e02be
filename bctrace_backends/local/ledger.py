"""An append-only, hash-chained ledger in one JSON-lines file.

Every line is the RFC 8785 canonical JSON of one block, and must be byte-for-byte that form:
any edited byte of the file either breaks a line's canonical form, its hash, or the next block's
``prev`` link, and reading the ledger reports the line. Appends take an exclusive file lock
(``filelock``) and re-read the tail under it, so two processes can anchor at once; each append
is fsynced before the anchor is reported. Block 0 (genesis) carries the ledger's chain id; every
later block repeats it with the genesis hash (``chain_id``, ``genesis``), so that one line, linked
to a trusted head hash, proves which ledger it belongs to (ledgers written before these fields
existed stay valid).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bctrace.api import canonical_bytes, json_nesting, locked, to_0x
from bctrace.errors import LedgerTampered

if TYPE_CHECKING:
    from filelock import FileLock

LEDGER_FORMAT = "bctrace-local-v1"
LEDGER_FILE = "ledger.jsonl"
ZERO = "0x" + "00" * 32


@dataclass(frozen=True)
class Block:
    height: int
    timestamp: int
    root: str | None
    prev: str
    hash: str


@dataclass
class LedgerState:
    chain_id: int
    genesis: str
    blocks: list[Block]
    by_root: dict[str, Block]
    lines: list[bytes]
    """Each block's line as stored (without the newline), for the chain proofs of bundles."""


def block_hash(fields: dict[str, Any]) -> str:
    return to_0x(hashlib.sha256(canonical_bytes(fields)).digest())


def parse_line(line: bytes) -> tuple[dict[str, Any], str] | str:
    """A ledger line's fields (without ``hash``) and its hash, or why it is not a valid block line
    (not JSON, not canonical, hash not matching its fields)."""
    try:
        if json_nesting(line.decode("utf-8")) > 1:  # a block line is one flat object
            return "is not in canonical form (edited)"
        fields = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return "is not valid JSON (edited)"
    try:
        canonical = isinstance(fields, dict) and canonical_bytes(fields) == line
    except ValueError:
        canonical = False
    if not canonical:
        return "is not in canonical form (edited)"
    claimed = fields.pop("hash", None)
    if claimed != block_hash(fields):
        return "does not match its hash (edited)"
    return fields, claimed


class Ledger:
    """One ledger file; parsed state is cached by file size and mtime."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LEDGER_FILE
        self._cache: tuple[tuple[int, int], LedgerState] | None = None
        self._file_lock: FileLock | None = None
        self._making_lock = threading.Lock()

    @property
    def _lock(self) -> FileLock:
        """The lock of appends, one object per ledger (:func:`bctrace.api.locked`), made on the
        first append: reading and verifying take no lock, and do not import ``filelock``."""
        with self._making_lock:
            if self._file_lock is None:
                from filelock import FileLock

                self._file_lock = FileLock(str(self.folder / (LEDGER_FILE + ".lock")))
            return self._file_lock

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> LedgerState:
        """Parse and check the whole file; raises :class:`LedgerTampered` naming the bad line."""
        st = self.path.stat()
        key = (st.st_size, st.st_mtime_ns)
        if self._cache and self._cache[0] == key:
            return self._cache[1]
        state = self._parse(self.path.read_bytes())
        self._cache = (key, state)
        return state

    def _parse(self, data: bytes) -> LedgerState:
        where = f"ledger {self.path}"
        if not data.endswith(b"\n"):
            raise LedgerTampered(f"{where}: file does not end with a complete line (truncated or edited)")
        lines = data[:-1].split(b"\n")
        blocks: list[Block] = []
        chain_id = 0
        prev = ZERO
        for number, line in enumerate(lines, start=1):
            parsed = parse_line(line)
            if isinstance(parsed, str):
                place = f"block {number - 1} (line {number})" if "hash" in parsed else f"line {number}"
                raise LedgerTampered(f"{where}: {place} {parsed}")
            fields, claimed = parsed
            if fields.get("height") != number - 1 or fields.get("prev") != prev:
                raise LedgerTampered(f"{where}: block {number - 1} (line {number}) does not link to the block before it (removed or reordered)")
            if number == 1:
                if fields.get("format") != LEDGER_FORMAT or not isinstance(fields.get("chain_id"), int):
                    raise LedgerTampered(f"{where}: line 1 is not a {LEDGER_FORMAT} genesis block")
                chain_id = fields["chain_id"]
            elif blocks and fields["timestamp"] < blocks[-1].timestamp:
                raise LedgerTampered(f"{where}: block {number - 1} has a timestamp earlier than its parent (back-dated)")
            elif fields.get("genesis", blocks[0].hash) != blocks[0].hash or fields.get("chain_id", chain_id) != chain_id:
                raise LedgerTampered(f"{where}: block {number - 1} (line {number}) names another ledger (chain id or genesis differ)")
            blocks.append(Block(fields["height"], fields["timestamp"], fields.get("root"), fields["prev"], claimed))
            prev = claimed
        by_root: dict[str, Block] = {}
        for block in blocks[1:]:
            if block.root is not None:
                by_root.setdefault(block.root, block)
        return LedgerState(chain_id=chain_id, genesis=blocks[0].hash, blocks=blocks, by_root=by_root, lines=lines)

    def append_root(self, root: str, *, chain_id: int | None) -> tuple[LedgerState, Block]:
        """Append a block anchoring ``root`` unless it is already there; return its block.

        The lock wait is bounded and a folder that cannot hold the lock file fails at once
        (:func:`bctrace.locks.locked`), so an unusable ``path`` is an error, never a hang."""
        with locked(self._lock, what=f"ledger {self.path}"):
            if not self.exists():
                self._write_genesis(chain_id if chain_id is not None else _random_chain_id())
            state = self.read()
            existing = state.by_root.get(root)
            if existing is not None:
                return state, existing
            last = state.blocks[-1]
            fields = {
                "chain_id": state.chain_id,
                "genesis": state.genesis,
                "height": last.height + 1,
                "prev": last.hash,
                "root": root,
                "timestamp": max(last.timestamp, int(time.time())),
            }
            self._append(fields)
            state = self.read()
            return state, state.blocks[-1]

    def _write_genesis(self, chain_id: int) -> None:
        fields = {"chain_id": chain_id, "format": LEDGER_FORMAT, "height": 0, "prev": ZERO, "timestamp": int(time.time())}
        self._append(fields)

    def _append(self, fields: dict[str, Any]) -> None:
        line = canonical_bytes({**fields, "hash": block_hash(fields)}) + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _random_chain_id() -> int:
    # Above the ids of public EVM chains' usual range, below 2**31 for tools that use int32.
    return 1_000_000_000 + secrets.randbelow(1_000_000_000)
