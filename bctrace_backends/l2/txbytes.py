"""The unsigned, fully RLP-encoded form of a transaction: what L1 fee oracles price.

OP-stack's and Scroll's ``getL1Fee(bytes)`` take the transaction as it will be posted to L1
minus its signature (they add 68 bytes for it). eth-account only serializes signed typed
transactions, so the two layouts are written here with the ``rlp`` library (EIP-1559 type 2:
``0x02 || rlp([chainId, nonce, tip, maxFee, gas, to, value, data, accessList])``; legacy with
EIP-155: ``rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0])``).
"""

from __future__ import annotations

from typing import Any


def _address(value: str | None) -> bytes:
    return bytes.fromhex(value[2:]) if value else b""


def _data(value: bytes | str) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def unsigned_tx_bytes(tx: dict[str, Any]) -> bytes:
    """Serialize a transaction dict (web3 field names) without its signature."""
    import rlp  # comes with the evm extra; not needed to register the backend

    to, value, data = _address(tx.get("to")), int(tx.get("value", 0)), _data(tx.get("data", b""))
    if "maxFeePerGas" in tx:
        fields = [tx["chainId"], tx["nonce"], tx["maxPriorityFeePerGas"], tx["maxFeePerGas"], tx["gas"], to, value, data, []]
        return b"\x02" + rlp.encode(fields)
    return rlp.encode([tx["nonce"], tx["gasPrice"], tx["gas"], to, value, data, tx["chainId"], 0, 0])
