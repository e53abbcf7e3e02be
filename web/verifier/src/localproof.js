// `chain_proof` "bctrace-local-v1": a local-ledger anchor checked from a trusted ledger head hash
// alone (mirrors bctrace_backends/local/proof.py:check).

import canonicalize from "canonicalize";
import { ClaimMismatch } from "./claims.js";
import { digestOf } from "./hashing.js";

export const FORMAT = "bctrace-local-v1";
const MAX_LINES = 64;
const MAX_LINE_CHARS = 4096;

/** A ledger line's fields (without `hash`) and its hash, or why it is not a valid block line. */
function parseLine(line) {
  let fields;
  try {
    fields = JSON.parse(line);
  } catch {
    return "is not valid JSON (edited)";
  }
  if (!fields || typeof fields !== "object" || Array.isArray(fields) || Object.values(fields).some((v) => v !== null && typeof v === "object")) {
    return "is not in canonical form (edited)";
  }
  if (canonicalize(fields) !== line) return "is not in canonical form (edited)";
  const { hash, ...rest } = fields;
  if (hash !== digestOf(rest)) return "does not match its hash (edited)";
  return [rest, hash];
}

export function checkLocalChainProof(anchor, root, trusted) {
  const proof = anchor.chain_proof || {};
  const lines = proof.lines;
  if (proof.format !== FORMAT || !Array.isArray(lines) || !lines.length) {
    throw new ClaimMismatch("chain_proof", `not a ${FORMAT} proof with a list of ledger lines`);
  }
  if (lines.length > MAX_LINES) throw new ClaimMismatch("chain_proof.lines", `${lines.length} lines, more than the ${MAX_LINES} a proof may carry`);
  const blocks = [];
  lines.forEach((line, i) => {
    if (typeof line !== "string" || line.length > MAX_LINE_CHARS) throw new ClaimMismatch(`chain_proof.lines[${i}]`, "not a ledger line");
    const parsed = parseLine(line);
    if (typeof parsed === "string") throw new ClaimMismatch(`chain_proof.lines[${i}]`, parsed);
    const [fields, hash] = parsed;
    const before = blocks[blocks.length - 1];
    if (before && (fields.prev !== before[1] || fields.height !== (before[0].height ?? -2) + 1)) {
      throw new ClaimMismatch(`chain_proof.lines[${i}]`, "does not link to the line before it");
    }
    blocks.push(parsed);
  });
  const hashes = blocks.map(([, hash]) => hash);
  if (!trusted.some((h) => hashes.includes(h))) {
    throw new ClaimMismatch("chain_proof", `no line of the proof has the trusted head hash (${trusted.join(", ") || "none given"})`);
  }
  const [first, firstHash] = blocks[0];
  const expected = {
    block: [first.height, anchor.block],
    tx: [firstHash, anchor.tx],
    block_hash: [firstHash, anchor.block_hash ?? firstHash],
    timestamp: [first.timestamp, anchor.timestamp],
    chain_id: [first.chain_id, anchor.chain_id],
    contract: [first.genesis, anchor.contract],
    "merkle.root": [first.root, root],
  };
  for (const [name, [found, claimed]] of Object.entries(expected)) {
    if (found !== claimed) throw new ClaimMismatch(name, `the ledger line says ${found}, the bundle says ${claimed}`);
  }
}
