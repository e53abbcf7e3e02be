"""One error hierarchy for bctrace.

Every failure a user can see is a ``BctraceError`` whose message is one readable line naming
what was wrong (the chain, the field, the file), and whose ``exit_code`` is the CLI's exit code:
0 ok, 1 verification failed, 2 usage/config error, 3 chain/network/store error. Library errors
(web3, httpx, sqlite) are caught at the boundary and re-raised as one of these ``from`` the
original, so the CLI never shows a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "EXIT_CHAIN", "EXIT_NOT_VERIFIED", "EXIT_OK", "EXIT_USAGE",
    "AnchorFailed", "AnchorMissing", "AnvilError", "BctraceError", "BundleAmbiguous", "BundleError", "ChainError",
    "ChainIdMismatch", "ChainProofUnsupported", "ClaimMismatch", "ChainMisconfigured", "ChainUnreachable", "ChainsFailed", "ChainsMisconfigured",
    "ConfigError", "DigestMismatch", "DisclosureMismatch", "JsIpfsError", "LedgerTampered", "LocalNodeError", "LockTimeout",
    "LockUnavailable", "ManifestInvalid", "NotPermitted", "NotReproduced", "OutboxError", "OutboxUnreachable", "PluginError", "PolicyNotMet", "PolicyUnreachable", "ProofInvalid",
    "Reverted", "ServiceUnreachable", "SignatureInvalid", "StoreContentMismatch", "StoreError", "SubjectMismatch", "TraceBroken",
    "UsageError", "VerificationError", "WriteRefused", "one_line",
]

EXIT_OK = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2
EXIT_CHAIN = 3


def one_line(message: object, limit: int | None = None) -> str:
    """``message`` (an exception or text) as one line: whitespace runs collapsed, optionally cut
    to ``limit`` characters. Used for every message shown to a user, ours or a library's."""
    text = " ".join(str(message).split())
    return text[:limit] if limit is not None else text


class BctraceError(Exception):
    """Base of every error bctrace raises on purpose.

    The exit code belongs to the class, never to one instance: where the same failure can mean
    two things (every chain misconfigured, or some unreachable), two classes say so.
    """

    exit_code: int = EXIT_USAGE

    def one_line(self) -> str:
        """The message as the CLI shows it: one line (``error: <this>``)."""
        return one_line(self)


# --- usage and configuration (exit 2) -------------------------------------------------------


class UsageError(BctraceError):
    """The caller asked for something that cannot be done as asked (bad argument, no such file)."""


class ConfigError(BctraceError):
    """The configuration is malformed, incomplete, or names something unknown."""


class PluginError(ConfigError):
    """A plugin failed to load or registered something twice."""


class BundleError(UsageError):
    """A proof bundle file is missing, not JSON, or not a bctrace bundle."""


class LockUnavailable(ConfigError):
    """A lock file cannot be created where the config puts it (a folder that is not writable,
    or not a folder)."""


class ManifestInvalid(UsageError):
    """The manifest in a bundle is not one bctrace could have written (exit 2)."""


class WriteRefused(UsageError):
    """A path would leave the folder being written into, or lies beneath a link or a file (exit 2)."""


class ServiceUnreachable(BctraceError):
    """The anchoring service (client mode's ``[service] url``) did not answer, or answered 5xx
    or 429: the records stay in the local outbox and are sent later."""

    exit_code = EXIT_CHAIN


class OutboxError(BctraceError):
    """The outbox database cannot be opened or used."""


class OutboxUnreachable(OutboxError):
    """The outbox's database server did not answer (refused, timed out): a network failure like
    an unreachable chain, so records recorded elsewhere are not at risk and a retry may work."""

    exit_code = EXIT_CHAIN


# --- chains, networks, stores (exit 3) ------------------------------------------------------


class ChainError(BctraceError):
    """A chain could not be used: unreachable, misconfigured on the node side, or it refused."""

    exit_code = EXIT_CHAIN

    def __init__(self, chain: str, message: str) -> None:
        self.chain = chain
        super().__init__(f"chain {chain!r}: {message}")


class ChainMisconfigured(ChainError):
    """The chain's config does not match what the node says (wrong chain id, no contract at the
    address): a config mistake, so exit 2, and never a transaction to the wrong chain."""

    exit_code = EXIT_USAGE


class ChainUnreachable(ChainError):
    """The node or ledger did not answer."""


class AnchorFailed(ChainError):
    """An anchor transaction was refused, reverted, or not confirmed in time."""


class NotPermitted(AnchorFailed):
    """The signer is not allowed to write to this chain's registry."""


class Reverted(AnchorFailed):
    """A contract refused the call with one of its custom errors (``error_name``, decoded
    ``error_args``)."""

    def __init__(self, chain: str, name: str, args: tuple[Any, ...]) -> None:
        self.error_name = name
        self.error_args = args
        shown = ", ".join("0x" + a.hex() if isinstance(a, bytes) else str(a) for a in args)
        super().__init__(chain, f"the registry refused the transaction: {name}({shown})")


class ChainsFailed(ChainError):
    """Several chains failed in one flush: every one is named (exit 3). Build it with
    :meth:`of`, which picks :class:`ChainsMisconfigured` when every failure is a config mistake."""

    def __init__(self, failures: list[ChainError]) -> None:
        self.failures = failures
        self.chain = ", ".join(f.chain for f in failures)
        Exception.__init__(self, "; ".join(str(f) for f in failures))

    @staticmethod
    def of(failures: list[ChainError]) -> ChainError:
        """The one failure itself, or the combined error of the right class."""
        if len(failures) == 1:
            return failures[0]
        if all(f.exit_code == EXIT_USAGE for f in failures):
            return ChainsMisconfigured(failures)
        return ChainsFailed(failures)


class ChainsMisconfigured(ChainsFailed):
    """Several chains failed in one flush, each because of a config mistake (exit 2)."""

    exit_code = EXIT_USAGE


class LocalNodeError(BctraceError):
    """A local node bctrace starts itself (anvil for ``bctrace evm devnet``, js-ipfs in tests)
    is missing, did not start, or refused a request."""

    exit_code = EXIT_CHAIN


class AnvilError(LocalNodeError):
    """anvil is missing, did not start, or refused a request."""


class JsIpfsError(LocalNodeError):
    """js-ipfs could not be started (missing npm package, crash at start-up, no API line)."""


class ChainProofUnsupported(ChainError):
    """The anchor's backend cannot check chain proofs (verification reports the anchor unchecked)."""

    def __init__(self, message: str) -> None:
        self.chain = ""
        Exception.__init__(self, message)


class LockTimeout(BctraceError):
    """Another process held a lock (ledger, outbox, EVM sender) for longer than bctrace waits."""

    exit_code = EXIT_CHAIN


class StoreError(BctraceError):
    """A content store (IPFS) failed or returned something other than what was stored."""

    exit_code = EXIT_CHAIN


class StoreContentMismatch(StoreError):
    """The store returned bytes other than the ones recorded (exit 3, like any store failure:
    the record is intact, the store is not trustworthy)."""


# --- verification (exit 1) ------------------------------------------------------------------


class VerificationError(BctraceError):
    """A record could not be verified; the subclass says which check failed."""

    exit_code = EXIT_NOT_VERIFIED


class DigestMismatch(VerificationError):
    """The record does not hash to the digest in its bundle."""


class SubjectMismatch(VerificationError):
    """A file or folder no longer matches the hash recorded for it."""


class DisclosureMismatch(VerificationError):
    """A disclosed field does not match any digest of the record (its value was changed)."""


class SignatureInvalid(VerificationError):
    """A signed record's signature does not recover to its author."""


class ProofInvalid(VerificationError):
    """The Merkle proof does not lead from the record's digest to the root."""


class AnchorMissing(VerificationError):
    """The root is not anchored on the chain (or the chain's record disagrees with the bundle)."""


class BundleAmbiguous(VerificationError):
    """The bundle would read differently in different JSON readers (a key appears twice)."""


class ClaimMismatch(VerificationError):
    """A field the bundle claims is contradicted by the chain or by the bundle's own chain proof."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


class ChainIdMismatch(VerificationError):
    """The chain answering is not the chain the bundle was anchored on."""


class LedgerTampered(VerificationError):
    """The local ledger file has been edited: its hash chain is broken."""


class TraceBroken(VerificationError):
    """Steps of one trace are missing, reordered, or do not link by their prev digests."""


class PolicyNotMet(VerificationError):
    """Fewer chains confirmed the anchor than the verification policy requires, and at least
    one of them said no (exit 1). The report that failed is attached as ``report``."""

    report: Any = None


class PolicyUnreachable(PolicyNotMet):
    """The policy could not be met only because chains could not be asked (exit 3)."""

    exit_code = EXIT_CHAIN


class NotReproduced(VerificationError):
    """A re-run differs from the recorded run in inputs, outputs, model, metrics, seed, params
    or exit status."""
