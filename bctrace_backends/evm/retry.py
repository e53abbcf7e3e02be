"""Per-request retry of JSON-RPC calls that are safe to repeat.

Public RPC providers drop connections, answer 429 or 503 under load, and sit behind proxies
that fail now and then; without a retry, one lost request fails a whole flush. Each request is
retried here, a bounded number of times, with exponential backoff and full jitter (so that
several clients do not retry in step), waiting what the server asks in ``Retry-After`` (capped).

Every call bctrace makes can be repeated safely: reads and receipt polls, and
``eth_sendRawTransaction``, which re-sends the very same signed bytes (the node then answers
"already known", or "nonce too low" once it is mined; :mod:`.client` treats both as sent).
The exception is ``eth_sendTransaction`` (a node-held account): the node signs it, so a repeat
is not known to be the same transaction; it is sent once, and the outbox retries the anchor.
"""

from __future__ import annotations

import random
import time
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from web3 import HTTPProvider

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP answers that mean "not now" rather than "no"."""
NOT_RETRIED = frozenset({"eth_sendTransaction"})
BACKOFF_BASE = 0.2
"""Seconds: the first retry waits up to this, each further one up to twice as long..."""
BACKOFF_CAP = 5.0
"""...but never more than this (and never more than MAX_RETRY_AFTER when the server says)."""
MAX_RETRY_AFTER = 30.0


def retry_after(response: requests.Response | None) -> float | None:
    """Seconds from a ``Retry-After`` header (a number, or an HTTP date), if there is one."""
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def backoff(attempt: int, response: requests.Response | None = None) -> float:
    """How long to wait before retry number ``attempt`` (0-based)."""
    asked = retry_after(response)
    if asked is not None:
        return min(asked, MAX_RETRY_AFTER)
    return random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


class RetryingHTTPProvider(HTTPProvider):
    """web3's HTTP provider, retrying each failed request that is safe to repeat."""

    def __init__(self, *args: Any, retries: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.retries = retries

    def _make_request(self, method: Any, request_data: bytes) -> bytes:
        attempt = 0
        while True:
            try:
                return self._request_session_manager.make_post_request(
                    self.endpoint_uri, request_data, **self.get_request_kwargs()  # type: ignore[arg-type]
                )
            except (requests.ConnectionError, requests.Timeout, requests.HTTPError) as err:
                response = err.response if isinstance(err, requests.HTTPError) else None
                if (attempt >= self.retries or method in NOT_RETRIED
                        or (response is not None and response.status_code not in RETRY_STATUSES)):
                    raise
                time.sleep(backoff(attempt, response))
                attempt += 1
