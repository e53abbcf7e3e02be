"""bctrace: tamper-evident, chain-anchored records with portable proof bundles.

The one class most users need is :class:`Tracer`. Importing bctrace imports no chain library.
"""

import logging

from ._internal.bundle import AnchorReceipt, ProofBundle
from ._internal.record import Record, Subject
from ._internal.tracer import FlushResult, Recorded, Trace, Tracer
from ._internal.verify import ChainCheck, VerificationReport
from .errors import BctraceError, VerificationError

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
