// `chain_proof` "evm-mpt-v1": an EVM anchor checked from a trusted block hash alone, in the order
// of README "Proof bundle format" (mirrors bctrace_backends/evm/chainproof.py:check).

import { Trie } from "@ethereumjs/trie";
import { decodeRlp, encodeRlp, getAddress, getBytes, keccak256, toBeHex, zeroPadValue, concat } from "ethers";
import { ClaimMismatch, HEX } from "./claims.js";

export const FORMAT = "evm-mpt-v1";
/** keccak256 of the TraceRegistry runtime code (writer allowlist off / on). */
export const REGISTRY_CODE_HASHES = [
  "0x54b813f5e933b16519ca5ebea48aa59a55148eb4f0512aeb8d85138b25c0c511",
  "0xbde8c5ee412c9a3e8e7212a667f20f1790bafc4d86abd508112db6ac42cc55b7",
];
export const ANCHOR_SELECTOR = "0xeecdf927"; // anchor(bytes32)
const MASK48 = (1n << 48n) - 1n;
const MAX_NODES = 64;
const MAX_NODE_BYTES = 256 * 1024;
const MAX_HEADER_BYTES = 64 * 1024;

const int = (hex) => (hex === "0x" ? 0n : BigInt(hex));

function hexField(proof, name, limit) {
  const value = proof[name];
  if (typeof value !== "string" || !HEX.test(value) || value.length > 2 + 2 * limit) {
    throw new ClaimMismatch(`chain_proof.${name}`, "is not 0x-prefixed lowercase hex of the expected size");
  }
  return value;
}

function decode(hex, what) {
  try {
    return decodeRlp(hex);
  } catch {
    throw new ClaimMismatch(what, "is not valid RLP");
  }
}

/** The slot of `anchors[root]` in the registry: keccak256(root ‖ uint256(0)). */
export function storageSlot(root) {
  return keccak256(concat([root, zeroPadValue("0x00", 32)]));
}

async function proven(rootHash, key, nodes, what) {
  if (!Array.isArray(nodes) || nodes.length > MAX_NODES || !nodes.every((n) => typeof n === "string" && HEX.test(n) && n.length <= 2 + 2 * MAX_NODE_BYTES)) {
    throw new ClaimMismatch(what, "the proof is not a list of at most 64 hex nodes");
  }
  try {
    const value = await new Trie().verifyProof(getBytes(rootHash), getBytes(key), nodes.map((n) => getBytes(n)));
    return value === null ? null : toHexString(value);
  } catch {
    throw new ClaimMismatch(what, "the Merkle-Patricia proof does not lead to the block's root");
  }
}

const toHexString = (bytes) => "0x" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Check every claim of `anchor` from its chain proof and the trusted block hashes (lowercase 0x hex). */
export async function checkEvmChainProof(anchor, root, trusted) {
  const proof = anchor.chain_proof || {};
  if (proof.format !== FORMAT) throw new ClaimMismatch("chain_proof.format", `is ${JSON.stringify(String(proof.format)).slice(0, 40)}, not "${FORMAT}"`);
  const header = hexField(proof, "header", MAX_HEADER_BYTES);
  const blockHash = keccak256(header);
  if (anchor.block_hash != null && blockHash !== anchor.block_hash) {
    throw new ClaimMismatch("block_hash", `chain_proof.header hashes to ${blockHash}, the anchor says ${anchor.block_hash}`);
  }
  if (!trusted.includes(blockHash)) {
    throw new ClaimMismatch("block_hash", `the anchor's block (chain_proof.header) hashes to ${blockHash}, which is not the trusted block hash (${trusted.join(", ") || "none"})`);
  }
  const fields = decode(header, "chain_proof.header");
  if (!Array.isArray(fields) || fields.length < 15 || !fields.every((f) => typeof f === "string")) {
    throw new ClaimMismatch("chain_proof.header", "is not a block header");
  }
  const number = int(fields[8]);
  const timestamp = int(fields[11]);
  if (number !== BigInt(anchor.block)) throw new ClaimMismatch("block", `the block header is block ${number}, the anchor says ${anchor.block}`);
  if (timestamp !== BigInt(anchor.timestamp)) throw new ClaimMismatch("timestamp", `the block's own timestamp is ${timestamp}, the anchor says ${anchor.timestamp}`);
  let address;
  try {
    address = getAddress(anchor.contract).toLowerCase();
  } catch {
    throw new ClaimMismatch("contract", `${anchor.contract} is not an EVM address`);
  }
  const account = await proven(fields[3], keccak256(address), proof.account_proof, `contract ${anchor.contract} (or chain_proof.account_proof)`);
  if (!account) throw new ClaimMismatch("contract", `no account at ${anchor.contract} in the state of block ${number}`);
  const accountFields = decode(account, "chain_proof.account_proof");
  if (!Array.isArray(accountFields) || accountFields.length !== 4) throw new ClaimMismatch("chain_proof.account_proof", "does not prove an account");
  const [, , storageRoot, codeHash] = accountFields;
  if (!REGISTRY_CODE_HASHES.includes(codeHash)) {
    throw new ClaimMismatch("contract", `the code at ${anchor.contract} is not a bctrace TraceRegistry (code hash ${codeHash})`);
  }
  const value = await proven(storageRoot, keccak256(storageSlot(root)), proof.storage_proof, "merkle.root (or chain_proof.storage_proof)");
  if (!value) throw new ClaimMismatch("merkle.root", `the registry at ${anchor.contract} holds no anchor of root ${root} in block ${number}`);
  const slot = int(decode(value, "chain_proof.storage_proof"));
  const firstBlock = (slot >> 48n) & MASK48;
  const firstTime = slot & MASK48;
  if (firstBlock !== BigInt(anchor.block) || firstTime !== BigInt(anchor.timestamp)) {
    throw new ClaimMismatch(firstBlock !== BigInt(anchor.block) ? "block" : "timestamp",
      `the registry says the root was first anchored in block ${firstBlock} at ${firstTime}, the anchor says block ${anchor.block} at ${anchor.timestamp}`);
  }
  await checkTransaction(anchor, proof, root, fields[4], address);
}

async function checkTransaction(anchor, proof, root, txRoot, address) {
  const raw = hexField(proof, "tx", MAX_NODE_BYTES);
  if (keccak256(raw) !== anchor.tx) throw new ClaimMismatch("tx", `the transaction in chain_proof.tx hashes to ${keccak256(raw)}, the anchor says ${anchor.tx}`);
  const index = proof.tx_index;
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 32) throw new ClaimMismatch("chain_proof.tx_index", "is not a transaction index");
  const key = encodeRlp(index === 0 ? "0x" : toBeHex(index)); // RLP(tx_index), as the trie keys it
  if ((await proven(txRoot, key, proof.tx_proof, "chain_proof.tx_index (or chain_proof.tx_proof)")) !== raw) {
    throw new ClaimMismatch("tx", `transaction ${index} of block ${anchor.block} is not ${anchor.tx} (chain_proof.tx_index or tx_proof)`);
  }
  const { to, data, chainId } = transactionFields(raw);
  if (to !== address || data !== ANCHOR_SELECTOR + root.slice(2)) {
    throw new ClaimMismatch("tx", `transaction ${anchor.tx} does not call anchor(root) on ${anchor.contract}`);
  }
  if (chainId !== BigInt(anchor.chain_id)) {
    throw new ClaimMismatch("chain_id", `transaction ${anchor.tx} is signed for chain id ${chainId}, the anchor says ${anchor.chain_id}`);
  }
}

/** `to`, `data` and chain id of a signed transaction (legacy EIP-155, or EIP-2718 types 1-4). */
export function transactionFields(raw) {
  const kind = parseInt(raw.slice(2, 4), 16);
  const positions = { 1: [4, 6], 2: [5, 7], 3: [5, 7], 4: [5, 7] };
  if (kind < 0xc0 && !(kind in positions)) throw new ClaimMismatch("chain_proof.tx", `transaction type ${kind} is not one bctrace reads`);
  const items = decode(kind >= 0xc0 ? raw : "0x" + raw.slice(4), "chain_proof.tx");
  if (!Array.isArray(items)) throw new ClaimMismatch("chain_proof.tx", "is not a signed transaction");
  if (kind >= 0xc0) {
    const v = int(items[6] ?? "0x");
    return { to: items[3], data: items[5], chainId: v >= 35n ? (v - 35n) / 2n : null };
  }
  const [toAt, dataAt] = positions[kind];
  return { to: items[toAt], data: items[dataAt], chainId: int(items[0] ?? "0x") };
}
