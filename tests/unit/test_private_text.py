"""Private texts (issue 14, item 2): a salted text's bundle cannot confirm a guess, and a text
can be checked against its bundle later (`bctrace verify --text`)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bctrace import Tracer
from bctrace._internal.record import Subject
from bctrace.errors import SubjectMismatch, UsageError

IDEA = "my idea\n"  # what `echo "my idea"` writes


def plain_hexes(text: str) -> list[str]:
    """The plain sha256 of the text as echo writes it and without the newline, in hex."""
    return [hashlib.sha256(t.encode()).hexdigest() for t in (text, text.rstrip("\n"))]


def stamp_idea(cli, text: str = IDEA) -> tuple[Path, str]:
    """Stamp ``text`` from stdin (human output), and once more with --json; return the first
    bundle and both outputs."""
    result = cli("stamp", "-", input=text)
    assert result.exit_code == 0, result.output
    as_json = cli("stamp", "-", "--json", input=text)
    assert as_json.exit_code == 0, as_json.output
    line = next(ln for ln in result.output.splitlines() if ln.strip().startswith("bundle "))
    return Path(line.split("bundle ", 1)[1].strip()), result.output + as_json.output


def test_stamp_of_stdin_stores_no_plain_sha256_of_the_text(project: Path, cli) -> None:
    bundle, output = stamp_idea(cli)
    state = [p for p in (project / ".bctrace").rglob("*") if p.is_file()]
    assert any(p.suffix in {".sqlite", ".db", ".sqlite3"} for p in state), "the outbox SQLite file was not found"
    stored = [bundle.read_bytes(), *(p.read_bytes() for p in state)]
    for hexed in plain_hexes(IDEA):
        assert hexed not in output
        for blob in stored:
            assert hexed.encode() not in blob and bytes.fromhex(hexed) not in blob
    subject = json.loads(bundle.read_text())["record"]["subjects"][0]
    assert subject["hash_scheme"] == "salted-sha256-v1"
    assert "salt" not in json.loads(bundle.read_text())["record"]


def test_verify_text_from_stdin_and_argument(project: Path, cli) -> None:
    bundle, _ = stamp_idea(cli)
    right = cli("verify", "--text", "-", bundle, input=IDEA)
    assert right.exit_code == 0 and "(the text matches)" in right.output
    assert cli("verify", "--text", IDEA, bundle).exit_code == 0
    wrong = cli("verify", "--text", "-", bundle, input="my other idea\n")
    assert wrong.exit_code == 1 and "does not match subject 'text'" in wrong.output


def test_salt_stays_with_the_producer(project: Path, cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Someone with only the bundle (and a copy of the ledger) cannot check a guess; with the
    producer's salt they can."""
    bundle, _ = stamp_idea(cli)
    salts = list((project / ".bctrace" / "salts").glob("*.salt"))
    salt = next(s for s in salts if s.name[:-5] in bundle.read_text()).read_text().strip()
    elsewhere = tmp_path / "someone-else"
    elsewhere.mkdir()
    copied = elsewhere / bundle.name
    copied.write_bytes(bundle.read_bytes())
    ledger = project / ".bctrace"
    monkeypatch.chdir(elsewhere)
    missing = cli("verify", "--text", "-", copied, "--ledger", ledger, input=IDEA)
    assert missing.exit_code == 2 and "no salt for subject 'text'" in missing.output and "salts" in missing.output
    given = cli("verify", "--text", "-", copied, "--ledger", ledger, "--salt", salt, input=IDEA)
    assert given.exit_code == 0, given.output
    wrong = cli("verify", "--text", "-", copied, "--ledger", ledger, "--salt", salt, input="guess\n")
    assert wrong.exit_code == 1


def test_an_old_bundle_with_a_plain_text_subject_still_verifies(project: Path, cli) -> None:
    """Bundles written before salted subjects: plain sha256 subject and a record salt."""
    tracer = Tracer.from_config()
    data = IDEA.encode()
    subject = Subject(name="text", sha256="0x" + hashlib.sha256(data).hexdigest(), size=len(data), media_type="text/plain; charset=utf-8")
    made = tracer.record("text", subjects=[subject], salt=True, bundle_dir=project / "old")
    tracer.flush()
    assert made.bundle_path is not None
    assert cli("verify", "--text", "-", made.bundle_path, input=IDEA).exit_code == 0
    assert cli("verify", "--text", "-", made.bundle_path, input="other\n").exit_code == 1


def test_python_api(project: Path) -> None:
    tracer = Tracer.from_config()
    made = tracer.stamp_text("a secret plan", bundle_dir=project / "out")
    tracer.flush()
    assert made.salt_file is not None and made.salt_file.is_file()
    assert made.bundle_path is not None
    assert tracer.verify_text("a secret plan", made.bundle_path).ok
    with pytest.raises(SubjectMismatch):
        tracer.verify_text("another plan", made.bundle_path)
    salt = made.salt_file.read_text().strip()
    made.salt_file.unlink()
    with pytest.raises(UsageError, match="no salt"):
        tracer.verify_text("a secret plan", made.bundle_path)
    assert tracer.verify_text("a secret plan", made.bundle_path, salt=salt).ok
