"""``SolanaRpc``: the Solana JSON-RPC methods the backend uses, over httpx.

Every transport error and every JSON-RPC error becomes one line naming the chain (the RPC URL is
shown as scheme and host only: providers put API keys in the path). A node that does not answer
is :class:`~bctrace.errors.ChainUnreachable`; a node that refuses a request is
:class:`~bctrace.errors.AnchorFailed` with the node's message.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from bctrace.api import redact_url
from bctrace.errors import AnchorFailed, ChainUnreachable, one_line


class SolanaRpc:
    """One cluster's JSON-RPC endpoint."""

    def __init__(self, chain: str, url: str, *, timeout: float) -> None:
        self.chain = chain
        self.url = url
        self._http = httpx.Client(timeout=timeout)
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"<SolanaRpc chain={self.chain!r} rpc={redact_url(self.url)}>"

    def call(self, method: str, *params: Any) -> Any:
        """One request; returns ``result`` (``None`` is a valid result: not found)."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        try:
            response = self._http.post(self.url, json=body)
            response.raise_for_status()
            answer = response.json()
        except httpx.HTTPError as err:
            raise ChainUnreachable(self.chain, f"{method} at {redact_url(self.url)} failed: {type(err).__name__}: {one_line(err, 200)}") from None
        except ValueError:
            raise ChainUnreachable(self.chain, f"{method} at {redact_url(self.url)} did not answer JSON") from None
        if not isinstance(answer, dict):
            raise ChainUnreachable(self.chain, f"{method} at {redact_url(self.url)} answered something that is not a JSON-RPC response")
        if "error" in answer:
            error = answer["error"] if isinstance(answer["error"], dict) else {"message": str(answer["error"])}
            raise AnchorFailed(self.chain, f"{method} refused: {one_line(error.get('message', error), 300)}")
        return answer.get("result")

    def value(self, method: str, *params: Any) -> Any:
        """A request whose result is ``{"context": ..., "value": ...}``; returns the value."""
        result = self.call(method, *params)
        if not isinstance(result, dict) or "value" not in result:
            raise ChainUnreachable(self.chain, f"{method} answered without a value")
        return result["value"]

    def close(self) -> None:
        self._http.close()
