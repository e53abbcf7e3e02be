// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title NodeInterfaceStandIn: a test double of Arbitrum's NodeInterface.
/// @notice On Arbitrum, 0x00000000000000000000000000000000000000C8 is a virtual contract that
/// only answers eth_call. This stand-in is placed there with anvil_setCode so that bctrace's
/// fee code calls the same ABI on a local node. The documented semantics it follows: amounts
/// are in L2 gas; gasEstimateForL1 = L1 cost / L2 base fee; gasEstimate (total) includes it.
/// Simplifications, said plainly: the L1 cost is priced on the uncompressed calldata plus a
/// fixed 140-byte overhead at 16 units per byte (Nitro prices the brotli-compressed
/// transaction), and the L2 part is measured by executing the call from this contract (so it
/// includes a CALL's overhead; msg.sender is this contract, not the caller).
contract NodeInterfaceStandIn {
    uint256 public constant TX_OVERHEAD_BYTES = 140;

    uint256 public l1BaseFeeEstimate;

    function setL1BaseFeeEstimate(uint256 value) external {
        l1BaseFeeEstimate = value;
    }

    function gasEstimateL1Component(address to, bool contractCreation, bytes calldata data)
        external
        payable
        returns (uint64 gasEstimateForL1, uint256 baseFee, uint256 l1BaseFeeEstimate_)
    {
        to;
        contractCreation;
        return _l1Component(data);
    }

    function gasEstimateComponents(address to, bool contractCreation, bytes calldata data)
        external
        payable
        returns (uint64 gasEstimate, uint64 gasEstimateForL1, uint256 baseFee, uint256 l1BaseFeeEstimate_)
    {
        require(!contractCreation, "NodeInterfaceStandIn: contract creation is not modelled");
        (gasEstimateForL1, baseFee, l1BaseFeeEstimate_) = _l1Component(data);
        uint256 start = gasleft();
        (bool ok, bytes memory reason) = to.call(data);
        if (!ok) {
            assembly {
                revert(add(reason, 32), mload(reason))
            }
        }
        uint256 execution = start - gasleft();
        gasEstimate = uint64(21000 + _calldataGas(data) + execution + gasEstimateForL1);
    }

    function _l1Component(bytes calldata data) internal view returns (uint64, uint256, uint256) {
        uint256 baseFee = block.basefee;
        uint256 l1Cost = (data.length + TX_OVERHEAD_BYTES) * 16 * l1BaseFeeEstimate;
        uint64 forL1 = baseFee == 0 ? 0 : uint64(l1Cost / baseFee);
        return (forL1, baseFee, l1BaseFeeEstimate);
    }

    function _calldataGas(bytes calldata data) internal pure returns (uint256 total) {
        for (uint256 i = 0; i < data.length; i++) {
            total += data[i] == 0 ? 4 : 16;
        }
    }
}
