import json
import multiprocessing
from pathlib import Path

import pytest

from bctrace.errors import ChainIdMismatch, ChainUnreachable, LedgerTampered
from bctrace.testing import ChainBackendTests, random_root
from bctrace_backends.local.backend import LocalBackend, LocalConfig
from mock_chain import MockBackend, MockConfig


def local(folder: Path, **kw) -> LocalBackend:
    return LocalBackend("local", LocalConfig(path=folder, **kw), state_dir=folder)


class TestLocalConformance(ChainBackendTests):
    @pytest.fixture
    def backend(self, tmp_path):
        return local(tmp_path / "ledger")


class TestMockConformance(ChainBackendTests):
    @pytest.fixture
    def backend(self):
        MockBackend.reset()
        yield MockBackend("mock", MockConfig(), state_dir=Path("."))
        MockBackend.reset()


def test_survives_restart_and_keeps_chain_id(tmp_path):
    first = local(tmp_path)
    root = random_root()
    receipt = first.anchor(root)
    again = local(tmp_path)
    assert again.chain_id == first.chain_id == receipt.chain_id
    assert again.lookup(root) == receipt


def test_configured_chain_id_is_used_and_checked(tmp_path):
    b = local(tmp_path, chain_id=4242)
    b.anchor(random_root())
    assert b.chain_id == 4242
    with pytest.raises(ChainIdMismatch, match="4242"):
        _ = local(tmp_path, chain_id=7).chain_id


def test_missing_ledger_is_unreachable_not_empty(tmp_path):
    with pytest.raises(ChainUnreachable, match="does not exist"):
        local(tmp_path).lookup(random_root())


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda lines: lines.__setitem__(1, lines[1].replace('"timestamp":', '"timestamp": ')), "canonical"),
        (lambda lines: lines.__setitem__(1, lines[1][:-3] + "x" + lines[1][-2:]), "not valid JSON"),
        (lambda lines: lines.pop(1), "does not link"),
        (lambda lines: lines.__setitem__(2, _rewrite(lines[2], timestamp=1)), "does not match its hash"),
    ],
    ids=["whitespace", "byte", "removed-block", "backdated"],
)
def test_tampering_is_detected_with_the_line(tmp_path, edit, message):
    b = local(tmp_path)
    for _ in range(3):
        b.anchor(random_root())
    path = tmp_path / "ledger.jsonl"
    lines = path.read_text().splitlines()
    edit(lines)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(LedgerTampered, match=message):
        local(tmp_path).lookup(random_root())


def test_every_single_byte_flip_is_detected(tmp_path):
    b = local(tmp_path)
    b.anchor(random_root())
    path = tmp_path / "ledger.jsonl"
    original = path.read_bytes()
    for i in range(0, len(original) - 1, 7):
        data = bytearray(original)
        data[i] ^= 0x01
        path.write_bytes(bytes(data))
        with pytest.raises((LedgerTampered,)):
            local(tmp_path).lookup(random_root())
    path.write_bytes(original)


def _rewrite(line: str, **changes) -> str:
    fields = json.loads(line)
    fields.update(changes)
    return json.dumps(fields, separators=(",", ":"), sort_keys=True)


def _append_many(folder: str, n: int) -> None:
    b = local(Path(folder))
    for _ in range(n):
        b.anchor(random_root())


def test_two_processes_appending_at_once_keep_one_valid_chain(tmp_path):
    local(tmp_path).anchor(random_root())  # genesis exists before the race
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(tmp_path), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    b = local(tmp_path)
    assert b.head() == 81
    state = b.ledger.read()
    assert len(state.by_root) == 81
