"""bctrace: tamper-evident, chain-anchored records with portable proof bundles.

The one class most users need is :class:`Tracer`. Importing bctrace imports no chain library.
"""

from .bundle import AnchorReceipt, ProofBundle
from .errors import BctraceError, VerificationError
from .record import Record, Subject
from .tracer import FlushResult, Recorded, Trace, Tracer
from .verify import ChainCheck, VerificationReport

__version__ = "0.1.0"

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
