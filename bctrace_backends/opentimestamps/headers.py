"""Bitcoin block headers by height, from an Esplora-style HTTP API (blockstream.info,
mempool.space, a self-hosted electrs: ``GET /block-height/H`` gives the block hash, ``GET
/block/HASH/header`` the 80-byte header in hex) or from Bitcoin Core's JSON-RPC (``getblockhash``,
``getblockheader HASH false``, ``getblockcount``). Each header is parsed with python-bitcoinlib and
checked to hash to the block hash asked for (a source cannot hand us another block's header)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

import httpx
from bitcoin.core import CBlockHeader

from bctrace.api import ChainMisconfigured, ChainUnreachable, redact_url

_HASH = re.compile(r"^[0-9a-f]{64}$")


def block_hash_hex(header: CBlockHeader) -> str:
    """The block hash as Bitcoin tools show it (reversed byte order), 64 hex digits."""
    return bytes(header.GetHash())[::-1].hex()


class HeaderSource(ABC):
    """Headers by height, checked and cached for the source's life; subclasses speak one API."""

    def __init__(self, chain: str, url: str, *, timeout: float, auth: tuple[str, str] | None = None) -> None:
        self.chain = chain
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout, auth=auth)
        self._cache: dict[int, CBlockHeader] = {}

    @abstractmethod
    def block_hash(self, height: int) -> str | None:
        """The main-chain block hash at ``height`` (64 hex, as Bitcoin shows it), or ``None``."""

    @abstractmethod
    def raw_header(self, block_hash: str) -> str:
        """The 80-byte header of ``block_hash`` in hex."""

    @abstractmethod
    def tip_height(self) -> int:
        """The height of the best block."""

    def header_at(self, height: int) -> CBlockHeader | None:
        """The header of the main-chain block at ``height``, or ``None`` if there is none yet."""
        if height in self._cache:
            return self._cache[height]
        block_hash = self.block_hash(height)
        if block_hash is None:
            return None
        if not _HASH.match(block_hash):
            raise ChainUnreachable(self.chain, f"block header source answered block {height} with {block_hash[:80]!r}, not a block hash")
        try:
            header = CBlockHeader.deserialize(bytes.fromhex(self.raw_header(block_hash)))
        except ValueError as err:
            raise ChainUnreachable(self.chain, f"block header source sent a header that does not parse ({err})") from None
        if block_hash_hex(header) != block_hash:
            raise ChainUnreachable(self.chain, f"block header source sent a header that does not hash to block {block_hash}")
        self._cache[height] = header
        return header

    def close(self) -> None:
        self._client.close()


class EsploraHeaders(HeaderSource):
    def _get(self, path: str) -> str:
        try:
            response = self._client.get(self.url + path)
        except httpx.HTTPError as err:
            raise ChainUnreachable(self.chain, f"block header source {redact_url(self.url)} cannot be reached: {err}") from err
        if response.status_code == 404:
            raise LookupError(path)
        if response.status_code != 200:
            raise ChainUnreachable(self.chain, f"block header source {redact_url(self.url)} answered {path} with HTTP {response.status_code}")
        return response.text.strip()

    def block_hash(self, height: int) -> str | None:
        try:
            return self._get(f"/block-height/{height}")
        except LookupError:
            return None

    def raw_header(self, block_hash: str) -> str:
        try:
            return self._get(f"/block/{block_hash}/header")
        except LookupError:
            raise ChainUnreachable(self.chain, f"block header source has no header of block {block_hash}, which it named") from None

    def tip_height(self) -> int:
        try:
            text = self._get("/blocks/tip/height")
        except LookupError:
            text = "(404)"
        if not text.isdigit():
            raise ChainUnreachable(self.chain, f"block header source answered the tip height with {text[:80]!r}")
        return int(text)


class BitcoinCoreHeaders(HeaderSource):
    """Bitcoin Core's JSON-RPC (``bitcoin_rpc``), with user and password from the environment."""

    def _call(self, method: str, *params: object) -> object:
        try:
            response = self._client.post(self.url, json={"jsonrpc": "1.0", "id": "bctrace", "method": method, "params": list(params)})
        except httpx.HTTPError as err:
            raise ChainUnreachable(self.chain, f"Bitcoin Core RPC {redact_url(self.url)} cannot be reached: {err}") from err
        if response.status_code in (401, 403):
            raise ChainMisconfigured(self.chain, f"Bitcoin Core RPC {redact_url(self.url)} refused the credentials (HTTP {response.status_code})")
        try:
            answer = response.json()
        except ValueError:
            raise ChainUnreachable(self.chain, f"Bitcoin Core RPC {redact_url(self.url)} answered {method} with HTTP {response.status_code}, not JSON") from None
        error = answer.get("error") if isinstance(answer, dict) else None
        if error:
            if isinstance(error, dict) and error.get("code") == -8 and method == "getblockhash":
                raise LookupError(method)  # "Block height out of range"
            raise ChainUnreachable(self.chain, f"Bitcoin Core RPC {method}: {error}")
        return answer.get("result") if isinstance(answer, dict) else None

    def block_hash(self, height: int) -> str | None:
        try:
            return str(self._call("getblockhash", height))
        except LookupError:
            return None

    def raw_header(self, block_hash: str) -> str:
        return str(self._call("getblockheader", block_hash, False))

    def tip_height(self) -> int:
        count = self._call("getblockcount")
        if not isinstance(count, int):
            raise ChainUnreachable(self.chain, f"Bitcoin Core RPC answered getblockcount with {count!r:.80}")
        return count
