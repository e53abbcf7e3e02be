// Reference roots and proofs from @openzeppelin/merkle-tree.
// Input (stdin): {"digests": ["0x..", ...], "prove": ["0x..", ...]}
// Output: {"root": "0x..", "proofs": {"0xdigest": ["0x..", ...]}} for each digest in "prove".
const { StandardMerkleTree } = require("@openzeppelin/merkle-tree");
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const { digests, prove } = JSON.parse(input);
  const tree = StandardMerkleTree.of(digests.map((d) => [d]), ["bytes32"]);
  const wanted = new Set(prove);
  const proofs = {};
  for (const [i, v] of tree.entries()) if (wanted.has(v[0])) proofs[v[0]] = tree.getProof(i);
  process.stdout.write(JSON.stringify({ root: tree.root, proofs }));
});
