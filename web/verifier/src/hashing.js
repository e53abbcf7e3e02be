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

const CHUNK = 4 * 1024 * 1024;

/** SHA-256 of a File or Blob, streamed into one reused 4 MiB buffer (a "BYOB" read: the
 * browser fills our buffer rather than allocating a new one per chunk, which the garbage
 * collector would free only lazily): memory stays flat whatever the file's size. */
export async function sha256OfFile(file) {
  const hasher = await createSHA256();
  hasher.init();
  const reader = file.stream().getReader({ mode: "byob" });
  let buffer = new ArrayBuffer(CHUNK);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (done) break;
    hasher.update(value);
    buffer = value.buffer; // the same memory, handed back
  }
  return "0x" + hasher.digest("hex");
}
