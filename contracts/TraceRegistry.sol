// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title TraceRegistry: anchors bctrace Merkle roots, first anchor wins.
/// @notice One storage slot per root (timestamp, block number, sender packed together) and one
/// event indexed by root and sender, so an anchor costs about 46k gas whatever the batch size.
/// A second anchor of the same root REVERTS with AlreadyAnchored: the first anchor's time is the
/// one that counts, and a failed duplicate costs its sender only the gas of the check.
/// Anyone can check a record with a block explorer alone: call verifyRecord(digest, proof, root)
/// with the digest, proof and root from the record's *.bctrace.json bundle.
/// @dev Merkle format "oz-standard-v1": OpenZeppelin StandardMerkleTree with leaf type bytes32,
/// leaf = keccak256(keccak256(abi.encode(digest))), parents hash their children in sorted order
/// (same result as OpenZeppelin's MerkleProof.verify).
contract TraceRegistry {
    struct Anchor {
        uint48 timestamp; // block.timestamp of the first anchor; 0 means "not anchored"
        uint48 blockNumber;
        address sender;
    }

    /// @notice Root => its first anchor.
    mapping(bytes32 => Anchor) public anchors;

    /// @notice Writer allowlist for permissioned networks; fixed at deploy time, off by default.
    bool public immutable restricted;
    address public owner;
    mapping(address => bool) public allowed;

    event Anchored(bytes32 indexed root, address indexed sender);
    event WriterAllowed(address indexed writer);
    event WriterRevoked(address indexed writer);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    error AlreadyAnchored(bytes32 root);
    error InvalidRoot();
    error NotAllowed(address sender);
    error NotOwner(address sender);

    /// @param restricted_ true to accept anchors only from allowlisted writers (the deployer is
    /// allowed from the start); false for an open registry, where allow/revoke change nothing.
    constructor(bool restricted_) {
        restricted = restricted_;
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        if (restricted_) {
            allowed[msg.sender] = true;
            emit WriterAllowed(msg.sender);
        }
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice Anchor a Merkle root. Reverts if it is already anchored.
    function anchor(bytes32 root) external {
        if (restricted && !allowed[msg.sender]) revert NotAllowed(msg.sender);
        if (root == bytes32(0)) revert InvalidRoot();
        Anchor storage a = anchors[root];
        if (a.timestamp != 0) revert AlreadyAnchored(root);
        a.timestamp = uint48(block.timestamp);
        a.blockNumber = uint48(block.number);
        a.sender = msg.sender;
        emit Anchored(root, msg.sender);
    }

    /// @notice True when `root` is anchored here and `proof` leads from the record `digest`
    /// (the sha256 in the bundle, not yet hashed into a leaf) to `root`.
    function verifyRecord(bytes32 digest, bytes32[] calldata proof, bytes32 root) external view returns (bool) {
        if (anchors[root].timestamp == 0) return false;
        bytes32 node = keccak256(bytes.concat(keccak256(abi.encode(digest))));
        for (uint256 i = 0; i < proof.length; ++i) {
            bytes32 sibling = proof[i];
            node = node < sibling
                ? keccak256(abi.encode(node, sibling))
                : keccak256(abi.encode(sibling, node));
        }
        return node == root;
    }

    function allow(address writer) external onlyOwner {
        allowed[writer] = true;
        emit WriterAllowed(writer);
    }

    function revoke(address writer) external onlyOwner {
        allowed[writer] = false;
        emit WriterRevoked(writer);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }
}
