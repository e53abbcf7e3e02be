"""One error hierarchy for bctrace.

Every failure a user can see is a ``BctraceError`` whose message is one readable line naming
what was wrong (the chain, the field, the file), and whose ``exit_code`` is the CLI's exit code:
0 ok, 1 verification failed, 2 usage/config error, 3 chain/network/store error. Library errors
(web3, httpx, sqlite) are caught at the boundary and re-raised as one of these ``from`` the
original, so the CLI never shows a traceback.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_VERIFIED = 1
EXIT_USAGE = 2
EXIT_CHAIN = 3


class BctraceError(Exception):
    """Base of every error bctrace raises on purpose."""

    exit_code: int = EXIT_USAGE


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


class ChainsFailed(ChainError):
    """Several chains failed in one flush: every one is named. The exit code is that of a chain
    error unless every failure was a config mistake."""

    def __init__(self, failures: list[ChainError]) -> None:
        self.failures = failures
        self.chain = ", ".join(f.chain for f in failures)
        Exception.__init__(self, "; ".join(str(f) for f in failures))
        if all(f.exit_code == EXIT_USAGE for f in failures):
            self.exit_code = EXIT_USAGE


class LockTimeout(BctraceError):
    """Another process held a lock (ledger, outbox, EVM sender) for longer than bctrace waits."""

    exit_code = EXIT_CHAIN


class StoreError(BctraceError):
    """A content store (IPFS) failed or returned something other than what was stored."""

    exit_code = EXIT_CHAIN


# --- verification (exit 1) ------------------------------------------------------------------


class VerificationError(BctraceError):
    """A record could not be verified; the subclass says which check failed."""

    exit_code = EXIT_NOT_VERIFIED


class DigestMismatch(VerificationError):
    """The record does not hash to the digest in its bundle."""


class SubjectMismatch(VerificationError):
    """A file or folder no longer matches the hash recorded for it."""


class SignatureInvalid(VerificationError):
    """A signed record's signature does not recover to its author."""


class ProofInvalid(VerificationError):
    """The Merkle proof does not lead from the record's digest to the root."""


class AnchorMissing(VerificationError):
    """The root is not anchored on the chain (or the chain's record disagrees with the bundle)."""


class ChainIdMismatch(VerificationError):
    """The chain answering is not the chain the bundle was anchored on."""


class LedgerTampered(VerificationError):
    """The local ledger file has been edited: its hash chain is broken."""


class TraceBroken(VerificationError):
    """Steps of one trace are missing, reordered, or do not link by their prev digests."""


class PolicyNotMet(VerificationError):
    """Fewer chains confirmed the anchor than the verification policy requires."""

    def __init__(self, message: str, *, unreachable_only: bool = False) -> None:
        super().__init__(message)
        if unreachable_only:
            self.exit_code = EXIT_CHAIN
