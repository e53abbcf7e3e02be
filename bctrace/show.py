"""Text for people: ``bctrace show`` (a bundle, offline) and ``bctrace verify`` results.

``show`` contacts no chain, so it states as facts only what it checked itself (the record hashes
to the digest, the Merkle proof leads to the root, the signature) and shows every anchor as the
bundle's *claim*. Text from a bundle is escaped before printing: a hostile bundle must not be
able to move the cursor or rewrite the terminal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .bundle import AnchorReceipt, ProofBundle, bundle_path_for
from .errors import BctraceError, VerificationError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def safe(value: Any) -> str:
    """``value`` as one printable line: control and bidi characters shown as ``\\xNN``."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        "" if value is None else str(value))


def utc(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def table_lines(columns: list[str], rows: Iterable[Iterable[Any]], indent: str = "  ") -> list[str]:
    """Plain aligned columns: readable in a terminal, a log file or a CI transcript alike."""
    cells = [columns] + [[safe(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(columns))]
    return [(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths))).rstrip() for r in cells]


def show_bundle(path: Path) -> tuple[list[str], int]:
    """The summary of a bundle and the exit code: 0 when the offline checks pass, 1 when the
    record or proof was changed (raises :class:`~bctrace.errors.BundleError` for a file that is
    not a bundle)."""
    from .authorship import check_signature
    from .verify import check_offline, record_view

    if not path.name.endswith(".bctrace.json") and path.exists():
        path = bundle_path_for(path)
    bundle = ProofBundle.read(path)
    lines = [f"bundle   {safe(path)}"]
    try:
        root = check_offline(bundle, str(path))
    except VerificationError as err:
        lines.append(f"checked  FAILED: {safe(err)}")
        lines.append("         everything below is what the bundle claims, and it does not hold together")
        root, code = None, 1
    else:
        lines.append("checked  the record hashes to the digest, and the Merkle proof leads from it to the root")
        code = 0
    try:
        view = record_view(bundle, str(path))
    except BctraceError as err:
        if code == 0:
            raise
        lines.append(f"record   {safe(err)}")
        return lines, code
    lines.append(f"record   kind {safe(view.kind)}, trace {safe(view.trace)} step {view.seq}")
    lines.append(f"created  {safe(view.created)} (as the recorder wrote it; an anchor's block time bounds it)")
    if view.signature:
        try:
            lines.append(f"author   {safe(check_signature(bundle.record, str(path)))} (signature checks)")
        except BctraceError as err:
            lines.append(f"author   {safe(view.author)} (SIGNATURE INVALID: {safe(err)})")
            code = code or err.exit_code
    elif view.author:
        lines.append(f"author   {safe(view.author)} (unsigned: a claim)")
    for s in view.subjects:
        size = f", {s.size} bytes" if s.size is not None else ""
        cid = f", cid {safe(s.cid)}" if s.cid else ""
        lines.append(f"subject  {safe(s.name)}: sha256 {s.sha256}{size}{cid}")
    lines.append(f"digest   {bundle.digest}")
    lines.append(f"merkle   root {bundle.merkle.root} ({len(bundle.merkle.proof)} proof steps, {bundle.merkle.format})")
    if not bundle.anchors:
        lines.append("anchors  none")
        return lines, code
    lines.append("anchors  CLAIMS, not checked here: `bctrace verify` checks each on its chain "
                 "(or with no network: --trust-block CHAIN_ID=0xBLOCKHASH)")
    lines += table_lines(["chain", "chain id", "backend", "block", "time (UTC)", "tx", "chain proof"],
                         [[a.chain, a.chain_id, a.backend, a.block, utc(a.timestamp), a.tx, _proof_state(a, root)]
                          for a in bundle.anchors])
    return lines, code


def _proof_state(anchor: AnchorReceipt, root: bytes | None) -> str:
    """Whether the anchor's chain proof holds together (it still needs a trusted block hash)."""
    if anchor.chain_proof is None:
        return "none"
    if root is None or anchor.block_hash is None:
        return "present"
    from .hexutil import from_0x
    from .plugins.manager import backend_registry, get_plugin_manager

    try:
        cls = backend_registry(get_plugin_manager()).get(anchor.backend)
        cls.check_chain_proof(anchor, root, [from_0x(anchor.block_hash)])
    except VerificationError as err:
        return f"INCONSISTENT ({err})"
    except BctraceError:
        return "present (cannot be checked here)"
    return "consistent with block_hash (trust that hash to make it a fact)"


def verification_lines(entry: dict[str, Any]) -> list[str]:
    """One bundle's result as ``bctrace verify`` prints it: checked facts per chain, or why not."""
    chains = entry.get("chains") or []
    ok = "error" not in entry
    signed = f" (signed by {entry['signed_by']})" if entry.get("signed_by") else ""
    lines = [f"{'OK ' if ok else 'FAILED '}{safe(entry['target'])}{signed}" + (f": {safe(entry['error'])}" if not ok and not chains else "")]
    if chains:
        lines += table_lines(
            ["chain", "chain id", "status", "block", "time (UTC)", "confirmations", "checked by", "tx / reason"],
            [[c["chain"], c.get("chain_id"), c["status"], c.get("block"), utc(c.get("timestamp")), c.get("confirmations"),
              ", ".join(w["source"] for w in c.get("witnesses", [])),
              (c.get("url") or c.get("tx")) if c["status"] == "verified" else c.get("reason")]
             for c in chains])
        if not ok:
            lines.append(f"  {safe(entry['error'])}")
    return lines
