"""Bitcoin block headers by height from an Esplora-style HTTP API (blockstream.info,
mempool.space, a self-hosted electrs): ``GET /block-height/H`` gives the block hash, ``GET
/block/HASH/header`` the 80-byte header in hex, which is parsed with python-bitcoinlib and checked
to hash to the block hash asked for (a source cannot hand us another block's header)."""

from __future__ import annotations

import re

import httpx
from bitcoin.core import CBlockHeader

from bctrace.api import ChainUnreachable, redact_url

_HASH = re.compile(r"^[0-9a-f]{64}$")


def block_hash_hex(header: CBlockHeader) -> str:
    """The block hash as Bitcoin tools show it (reversed byte order), 64 hex digits."""
    return bytes(header.GetHash())[::-1].hex()


class EsploraHeaders:
    def __init__(self, chain: str, url: str, *, timeout: float) -> None:
        self.chain = chain
        self.url = url.rstrip("/")
        self._client = httpx.Client(timeout=timeout)
        self._cache: dict[int, CBlockHeader] = {}

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

    def header_at(self, height: int) -> CBlockHeader | None:
        """The header of the main-chain block at ``height``, or ``None`` if there is none yet."""
        if height in self._cache:
            return self._cache[height]
        try:
            block_hash = self._get(f"/block-height/{height}")
            if not _HASH.match(block_hash):
                raise ChainUnreachable(self.chain, f"block header source answered block-height {height} with {block_hash[:80]!r}, not a block hash")
            raw = self._get(f"/block/{block_hash}/header")
        except LookupError:
            return None
        try:
            header = CBlockHeader.deserialize(bytes.fromhex(raw))
        except ValueError as err:
            raise ChainUnreachable(self.chain, f"block header source sent a header that does not parse ({err})") from None
        if block_hash_hex(header) != block_hash:
            raise ChainUnreachable(self.chain, f"block header source sent a header that does not hash to block {block_hash}")
        self._cache[height] = header
        return header

    def tip_height(self) -> int:
        text = self._get("/blocks/tip/height")
        if not text.isdigit():
            raise ChainUnreachable(self.chain, f"block header source answered the tip height with {text[:80]!r}")
        return int(text)

    def close(self) -> None:
        self._client.close()
