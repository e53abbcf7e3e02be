// Hashes as the bundle format defines them: SHA-256 of RFC 8785 bytes for records, keccak-256 for
// the OpenZeppelin Merkle tree, streaming SHA-256 (hash-wasm) for files of any size.

import canonicalize from "canonicalize";
import { getBytes, hexlify, keccak256, sha256 } from "ethers";
import { createSHA256 } from "hash-wasm";

export const utf8 = new TextEncoder();

/** sha256(RFC 8785 canonical JSON), as 0x hex. */
export function digestOf(value) {
  return sha256(utf8.encode(canonicalize(value)));
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function compareBytes(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** OpenZeppelin StandardMerkleTree (leaf encoding ["bytes32"]): the root a proof leads to. */
export function rootFromProof(digest, proof) {
  let node = getBytes(keccak256(keccak256(getBytes(digest))));
  for (const step of proof) {
    const sibling = getBytes(step);
    const [lo, hi] = compareBytes(node, sibling) <= 0 ? [node, sibling] : [sibling, node];
    node = getBytes(keccak256(concatBytes(lo, hi)));
  }
  return hexlify(node);
}

export const CHUNK = 8 * 1024 * 1024;

/** SHA-256 of a File or Blob, read in 8 MiB slices: memory stays flat whatever its size. */
export async function sha256OfFile(file, onProgress = () => {}) {
  const hasher = await createSHA256();
  hasher.init();
  for (let at = 0; at < file.size; at += CHUNK) {
    hasher.update(new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer()));
    onProgress(Math.min(file.size, at + CHUNK), file.size);
  }
  return "0x" + hasher.digest("hex");
}
