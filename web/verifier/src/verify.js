// What `bctrace verify` checks, in the browser: the record's digest and Merkle proof (offline),
// the author's EIP-191 signature, then every claim of each anchor through a node (live RPC) or
// from the anchor's chain_proof and a trusted block hash (no network). Anchors are grouped into
// distinct chains (chain id + contract); policy "all": every distinct chain must verify.

import canonicalize from "canonicalize";
import { AbiCoder, getAddress, getBytes, id as eventId, keccak256, sha256, verifyMessage } from "ethers";
import { rpcFor, txUrl } from "./chains.js";
import { ClaimMismatch } from "./claims.js";
import { checkEvmChainProof } from "./evmproof.js";
import { digestOf, rootFromProof, utf8 } from "./hashing.js";
import { checkLocalChainProof } from "./localproof.js";
import { call, Unreachable } from "./rpc.js";

export const CLAIMED_FIELDS = ["chain_id", "contract", "tx", "block", "timestamp", "block_hash"];
const ANCHORS_SELECTOR = "0x" + keccak256(utf8.encode("anchors(bytes32)")).slice(2, 10);
const ANCHORED_TOPIC = eventId("Anchored(bytes32,address)");
const DEFINITE = ["mismatch", "missing", "tampered", "disputed"];
const HASH32 = /^0x[0-9a-f]{64}$/;

/** A bundle that fails before any chain is asked: the verdict is "failed" with this reason. */
export class BundleFailed extends Error {}

/** Shape of a format-1 bundle (README "Proof bundle format"); throws BundleFailed naming the field. */
export function checkShape(bundle) {
  const bad = (field, why) => { throw new BundleFailed(`${field}: ${why} (not a bctrace proof bundle)`); };
  if (!bundle || typeof bundle !== "object" || Array.isArray(bundle)) bad("bundle", "not a JSON object");
  if (bundle.bctrace !== 1) bad("bctrace", `is ${JSON.stringify(bundle.bctrace)}, not 1`);
  if (!bundle.record || typeof bundle.record !== "object" || Array.isArray(bundle.record)) bad("record", "not an object");
  if (typeof bundle.digest !== "string" || !HASH32.test(bundle.digest)) bad("digest", "not 0x + 64 lowercase hex");
  const m = bundle.merkle;
  if (!m || m.format !== "oz-standard-v1") bad("merkle.format", "not oz-standard-v1");
  if (typeof m.root !== "string" || !HASH32.test(m.root)) bad("merkle.root", "not 0x + 64 lowercase hex");
  if (!Array.isArray(m.proof) || m.proof.length > 64 || !m.proof.every((s) => typeof s === "string" && HASH32.test(s))) bad("merkle.proof", "not a list of at most 64 hashes");
  if (!Array.isArray(bundle.anchors) || bundle.anchors.length > 64) bad("anchors", "not a list of at most 64 anchors");
  bundle.anchors.forEach((a, i) => {
    if (!a || typeof a !== "object") bad(`anchors[${i}]`, "not an object");
    if (!Number.isInteger(a.chain_id) || !Number.isInteger(a.block) || !Number.isInteger(a.timestamp)) bad(`anchors[${i}]`, "chain_id, block and timestamp must be integers");
    if (typeof a.tx !== "string" || typeof a.chain !== "string") bad(`anchors[${i}]`, "chain and tx must be strings");
    if (a.block_hash != null && !HASH32.test(a.block_hash)) bad(`anchors[${i}].block_hash`, "not 0x + 64 lowercase hex");
  });
  const r = bundle.record;
  if (typeof r.trace !== "string" || !Number.isInteger(r.seq) || typeof r.kind !== "string") bad("record", "kind, trace and seq are required");
}

/** Digest and Merkle proof; returns the root. */
export function checkOffline(bundle) {
  if (digestOf(bundle.record) !== bundle.digest) throw new BundleFailed("the record does not hash to the bundle's digest (record edited)");
  if (rootFromProof(bundle.digest, bundle.merkle.proof) !== bundle.merkle.root) {
    throw new BundleFailed("the Merkle proof does not lead from the digest to the root (proof or root edited)");
  }
  return bundle.merkle.root;
}

/** The author's address when the record is signed (EIP-191 over sha256 of the record without its signature). */
export function checkSignature(record) {
  if (record.signature == null) return null;
  const scheme = record.signature_scheme || "eip191";
  if (scheme !== "eip191") throw new BundleFailed(`signature_scheme ${JSON.stringify(scheme)}: this page checks only eip191 signatures`);
  const { signature, ...unsigned } = record;
  let recovered;
  try {
    recovered = verifyMessage(getBytes(sha256(utf8.encode(canonicalize(unsigned)))), signature);
  } catch (err) {
    throw new BundleFailed(`the signature is malformed (${err.shortMessage || err.message})`);
  }
  if (recovered.toLowerCase() !== String(record.author || "").toLowerCase()) {
    throw new BundleFailed(`the signature is by ${recovered}, not by the author ${record.author || "(none)"}`);
  }
  return recovered;
}

/** A node's answer about an anchor: the receipt it vouches for, compared field by field. */
async function checkLive(anchor, root, url) {
  const source = `node ${url}`;
  try {
    const served = Number(BigInt(await call(url, "eth_chainId")));
    if (served !== anchor.chain_id) return { source, status: "mismatch", reason: `chain_id: the chain is ${served}, the bundle says ${anchor.chain_id}` };
    let contract;
    try {
      contract = getAddress(anchor.contract);
    } catch {
      return { source, status: "mismatch", reason: `contract: ${anchor.contract} is not an EVM address` };
    }
    const answer = await call(url, "eth_call", [{ to: contract, data: ANCHORS_SELECTOR + root.slice(2) }, "latest"]);
    if (answer === "0x") return { source, status: "mismatch", reason: `contract: there is no TraceRegistry at ${anchor.contract} on this chain` };
    const [timestamp, block] = AbiCoder.defaultAbiCoder().decode(["uint48", "uint48", "address"], answer);
    if (timestamp === 0n) return { source, status: "missing", reason: `root not anchored in ${anchor.contract} on this chain` };
    const logs = await call(url, "eth_getLogs", [{ address: contract, fromBlock: toQty(block), toBlock: toQty(block), topics: [ANCHORED_TOPIC, root] }]);
    const header = await call(url, "eth_getBlockByNumber", [toQty(block), false]);
    if (!logs.length) return { source, status: "missing", reason: `the registry says root ${root} was anchored in block ${block}, but that block has no Anchored event for it` };
    if (BigInt(header.timestamp) !== timestamp || logs[0].blockHash !== header.hash) {
      return { source, status: "missing", reason: `the node contradicts itself about block ${block}` };
    }
    const found = { chain_id: served, contract, tx: logs[0].transactionHash, block: Number(block), timestamp: Number(timestamp), block_hash: header.hash };
    const differences = CLAIMED_FIELDS.filter((f) => !(f === "block_hash" && anchor.block_hash == null) && anchor[f] !== found[f])
      .map((f) => `${f}: the chain says ${found[f]}, the bundle says ${anchor[f]}`);
    if (differences.length) return { source, status: "mismatch", reason: differences.join("; "), receipt: found };
    if (anchor.chain_proof != null) await checkEvmChainProof(anchor, root, [found.block_hash]);
    const head = Number(BigInt(await call(url, "eth_blockNumber")));
    return { source, status: "verified", receipt: found, confirmations: Math.max(0, head - found.block + 1), live: true };
  } catch (err) {
    if (err instanceof Unreachable) return { source, status: "unreachable", reason: err.message };
    if (err instanceof ClaimMismatch) return { source, status: "mismatch", reason: err.message };
    return { source, status: "mismatch", reason: `the node's answer does not fit a TraceRegistry (${String(err.shortMessage || err.message).slice(0, 160)})` };
  }
}

const toQty = (n) => "0x" + BigInt(n).toString(16);

/** An anchor checked from its chain_proof and trusted hashes alone: no network. */
async function checkTrusted(anchor, root, hashes) {
  const source = `trusted ${anchor.backend === "local" ? "head" : "block"} ${hashes.map((h) => h.slice(0, 12) + "…").join(", ")}`;
  if (anchor.chain_proof == null) {
    return { source, status: "not-configured", reason: "the anchor carries no chain_proof, so a trusted block hash cannot check it (set an RPC for this chain)" };
  }
  try {
    if (anchor.backend === "local") checkLocalChainProof(anchor, root, hashes);
    else if (anchor.backend === "solana") return { source, status: "not-configured", reason: "this page does not check Solana anchors" };
    else await checkEvmChainProof(anchor, root, hashes);
  } catch (err) {
    if (err instanceof ClaimMismatch) return { source, status: "mismatch", reason: err.message };
    throw err;
  }
  return { source, status: "verified", receipt: anchor, live: false };
}

/** One distinct chain's verdict from its witness (a trusted hash when given, else a node).
 * Answers are kept in `settings.cache` by claim and root: the bundles of one batch ask once. */
async function checkChain(anchors, root, settings) {
  const claim = anchors[0];
  const base = { chain: claim.chain, labels: [...new Set(anchors.map((a) => a.chain))], chain_id: claim.chain_id, claim };
  const { chain: _label, ...claimed } = claim;
  const key = `${root}|${canonicalize(claimed)}`;
  const cache = settings.cache ?? (settings.cache = new Map());
  if (!cache.has(key)) cache.set(key, witnessFor(claim, root, settings));
  return { ...base, ...(await cache.get(key)) };
}

async function witnessFor(claim, root, settings) {
  const trusted = settings.trusted[String(claim.chain_id)];
  let witness;
  if (trusted) {
    witness = await checkTrusted(claim, root, trusted.split(",").map((h) => h.trim().toLowerCase()));
  } else if (claim.backend === "local") {
    witness = { source: "none", status: "not-configured", reason: "a local ledger anchor is checked against the ledger's head hash: give it as a trusted hash for this chain id" };
  } else if (claim.backend === "solana") {
    witness = { source: "none", status: "not-configured", reason: "this page does not check Solana anchors" };
  } else {
    const url = rpcFor(claim.chain_id, settings.rpcs);
    witness = url ? await checkLive(claim, root, url)
      : { source: "none", status: "not-configured", reason: `no RPC known for chain id ${claim.chain_id}: set one in Settings (or give a trusted block hash)` };
  }
  return { ...witness, url: witness.status === "verified" ? txUrl(claim.chain_id, claim.tx) : null };
}

/** The anchors of each distinct chain (chain id + contract); an anchor repeated under another name is one chain. */
export function distinctChains(anchors) {
  const groups = new Map();
  for (const a of anchors) {
    const key = `${a.chain_id}/${String(a.contract || "").toLowerCase()}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(a);
  }
  return [...groups.values()];
}

/** Page-level status of one chain check: verified, failed (a definite answer) or unreachable. */
export function pageStatus(status) {
  if (status === "verified") return "verified";
  return DEFINITE.includes(status) ? "failed" : "unreachable";
}

/** Verify one parsed bundle. Never throws: a failure is a report with status "failed" and a reason. */
export async function verifyBundle(bundle, settings) {
  const report = { status: "failed", reasons: [], chains: [], signedBy: null, bundle };
  try {
    checkShape(bundle);
    const root = checkOffline(bundle);
    report.signedBy = checkSignature(bundle.record);
    report.chains = await Promise.all(distinctChains(bundle.anchors).map((group) => checkChain(group, root, settings)));
  } catch (err) {
    if (!(err instanceof BundleFailed)) throw err;
    report.reasons.push(err.message);
    return report;
  }
  if (!report.chains.length) {
    report.reasons.push("the bundle has no anchors");
    return report;
  }
  const statuses = report.chains.map((c) => pageStatus(c.status));
  report.status = statuses.includes("failed") ? "failed" : statuses.includes("unreachable") ? "unreachable" : "verified";
  for (const c of report.chains) if (c.status !== "verified") report.reasons.push(`${c.chain}: ${c.status} (${c.reason})`);
  return report;
}
