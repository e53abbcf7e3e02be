"""bctrace: tamper-evident, chain-anchored records with portable proof bundles.

The one class most users need is :class:`Tracer`. Importing bctrace imports no chain library.
"""

import logging
from typing import TYPE_CHECKING

from ._internal.lazy import lazy_getattr
from .errors import BctraceError, VerificationError

if TYPE_CHECKING:
    from ._internal.bundle import AnchorReceipt, ProofBundle
    from ._internal.record import Record, Subject
    from ._internal.tracer import FlushResult, Recorded, Trace, Tracer
    from ._internal.verify import ChainCheck, VerificationReport

# Imported on first use, so that `bctrace --help` and plugin registration stay fast.
__getattr__ = lazy_getattr(__name__, globals(), {
    "._internal.bundle": ["AnchorReceipt", "ProofBundle"],
    "._internal.record": ["Record", "Subject"],
    "._internal.tracer": ["FlushResult", "Recorded", "Trace", "Tracer"],
    "._internal.verify": ["ChainCheck", "VerificationReport"],
})

__version__ = "0.2.0"

# A library logs, the application decides where to: nothing is printed unless it configures
# logging (the CLI does with -v), not even warnings through logging's last-resort handler.
logging.getLogger("bctrace").addHandler(logging.NullHandler())

__all__ = [
    "AnchorReceipt",
    "BctraceError",
    "ChainCheck",
    "FlushResult",
    "ProofBundle",
    "Record",
    "Recorded",
    "Subject",
    "Trace",
    "Tracer",
    "VerificationError",
    "VerificationReport",
    "__version__",
]
