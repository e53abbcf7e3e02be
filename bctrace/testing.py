"""Test helpers for plugin authors: the conformance test classes every backend and store
should pass, and :func:`registered_plugin` to register a throwaway plugin in one test.

A backend's test module subclasses :class:`ChainBackendTests` and provides a ``backend``
fixture returning a fresh, ready backend (for a real node: connected, with its registry
deployed). Every built-in backend runs these, and plugin authors are meant to as well::

    class TestMyBackend(ChainBackendTests):
        @pytest.fixture
        def backend(self, my_node):
            return MyBackend("mine", MyConfig(backend="mine", ...), state_dir=tmp_path)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ._internal.backend import ChainBackend
from ._internal.bundle import AnchorReceipt
from ._internal.cid import CidParams
from ._internal.hashing import hash_file
from ._internal.merkle import MerkleTree
from ._internal.outbox.conformance import ClaimingOutboxTests, OutboxTests
from ._internal.plugin_manager import get_plugin_manager
from ._internal.stores import ContentStore
from .errors import PluginError

__all__ = ["ChainBackendTests", "ClaimingOutboxTests", "ContentStoreTests", "OutboxTests", "random_root", "registered_plugin"]


@contextmanager
def registered_plugin(plugin: object, *, name: str | None = None) -> Iterator[object]:
    """Register ``plugin`` (a module or object with ``@hookimpl`` functions) on the process's
    plugin manager for the ``with`` block, checked like an installed plugin; unregister it after.

    Raises :class:`~bctrace.errors.PluginError` with the one-line problem when it is refused
    (an unknown hook, a bad signature).
    """
    pm = get_plugin_manager()
    label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
    before = len(pm.problems)
    if not pm.register_checked(plugin, label):
        problem = pm.problems.pop()
        del pm.problems[before:]
        raise PluginError(problem)
    try:
        yield plugin
    finally:
        if pm.has_plugin(label):
            pm.unregister(name=label)


def random_root() -> bytes:
    return MerkleTree([os.urandom(32), os.urandom(32)]).root


class ChainBackendTests:
    """Behaviour every ``ChainBackend`` must show. Subclasses provide the ``backend`` fixture."""

    @pytest.fixture
    def backend(self) -> ChainBackend:  # pragma: no cover - always overridden
        raise NotImplementedError("subclass ChainBackendTests and provide a 'backend' fixture")

    def test_has_name_and_config_model(self, backend: ChainBackend) -> None:
        assert isinstance(type(backend).name, str) and type(backend).name
        assert isinstance(backend.config, type(backend).config_model)

    def test_anchor_returns_receipt_for_this_chain(self, backend: ChainBackend) -> None:
        root = random_root()
        receipt = backend.anchor(root)
        assert isinstance(receipt, AnchorReceipt)
        assert receipt.chain == backend.chain
        assert receipt.backend == type(backend).name
        assert receipt.chain_id == backend.chain_id
        assert receipt.tx.startswith("0x")
        assert receipt.timestamp > 1_600_000_000

    def test_lookup_finds_anchored_root(self, backend: ChainBackend) -> None:
        root = random_root()
        receipt = backend.anchor(root)
        found = backend.lookup(root)
        assert found is not None
        assert (found.block, found.tx.lower(), found.chain_id) == (receipt.block, receipt.tx.lower(), receipt.chain_id)

    def test_lookup_of_unknown_root_is_none(self, backend: ChainBackend) -> None:
        backend.anchor(random_root())  # the chain exists and has anchors
        assert backend.lookup(random_root()) is None

    def test_anchor_is_idempotent(self, backend: ChainBackend) -> None:
        root = random_root()
        first = backend.anchor(root)
        second = backend.anchor(root)
        assert (second.block, second.tx.lower()) == (first.block, first.tx.lower())

    def test_confirmations_grow_with_the_chain(self, backend: ChainBackend) -> None:
        receipt = backend.anchor(random_root())
        before = backend.confirmations(receipt)
        assert before >= 1
        backend.anchor(random_root())
        assert backend.confirmations(receipt) >= before

    def test_head_is_at_least_the_anchor_block(self, backend: ChainBackend) -> None:
        receipt = backend.anchor(random_root())
        assert backend.head() >= receipt.block

    def test_describe_is_plain_and_names_the_chain(self, backend: ChainBackend) -> None:
        info = backend.describe()
        assert info["chain"] == backend.chain
        assert info["backend"] == type(backend).name

    def test_repr_names_the_chain(self, backend: ChainBackend) -> None:
        assert backend.chain in repr(backend)


class ContentStoreTests:
    """Behaviour every ``ContentStore`` must show. Subclasses provide a ``store`` fixture (a
    ready, open store) and may use ``tmp_path``."""

    @pytest.fixture
    def store(self) -> ContentStore:  # pragma: no cover - always overridden
        raise NotImplementedError("subclass ContentStoreTests and provide a 'store' fixture")

    def _file(self, folder: Path, size: int) -> Path:
        path = folder / f"blob-{size}.bin"
        path.write_bytes(os.urandom(size))
        return path

    @pytest.mark.parametrize("size", [0, 1, 300_000])
    def test_add_returns_the_cid_computed_locally(self, store: ContentStore, tmp_path: Path, size: int) -> None:
        path = self._file(tmp_path, size)
        params = CidParams()
        assert store.add(path, params) == hash_file(path, cid=params).cid

    def test_cat_streams_back_the_same_bytes(self, store: ContentStore, tmp_path: Path) -> None:
        path = self._file(tmp_path, 600_000)
        cid = store.add(path, CidParams())
        with store.cat(cid) as chunks:
            assert b"".join(chunks) == path.read_bytes()

    def test_has_name_config_and_repr(self, store: ContentStore) -> None:
        assert isinstance(type(store).name, str) and type(store).name
        assert isinstance(store.config, type(store).config_model)
        assert store.store in repr(store)
