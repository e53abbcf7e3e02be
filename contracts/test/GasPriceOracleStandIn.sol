// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title GasPriceOracleStandIn: a test double of the OP-stack GasPriceOracle predeploy.
/// @notice Placed with anvil_setCode at 0x420000000000000000000000000000000000000F on a local
/// node with an OP-stack chain id, so that bctrace's fee code calls a real contract with the
/// real ABI. It implements the documented Bedrock and Ecotone L1 data fee formulas and the
/// Isthmus operator fee (OP specs, "GasPriceOracle"); Fjord's FastLZ estimate is not
/// implemented (isFjord() is false). The real predeploy reads its parameters from the L1Block
/// predeploy; this one keeps them in its own storage, set by anyone through setParams (test use).
contract GasPriceOracleStandIn {
    uint256 public constant DECIMALS = 6;

    bool public isEcotone;
    bool public isIsthmus;
    uint256 public l1BaseFee;
    uint256 public blobBaseFee;
    uint32 public baseFeeScalar;
    uint32 public blobBaseFeeScalar;
    uint256 internal _overhead; // Bedrock only
    uint256 internal _scalar; // Bedrock only
    uint32 public operatorFeeScalar; // Isthmus
    uint64 public operatorFeeConstant; // Isthmus

    function setParams(
        bool ecotone,
        uint256 l1BaseFee_,
        uint256 blobBaseFee_,
        uint32 baseFeeScalar_,
        uint32 blobBaseFeeScalar_,
        uint256 overhead_,
        uint256 scalar_
    ) external {
        isEcotone = ecotone;
        l1BaseFee = l1BaseFee_;
        blobBaseFee = blobBaseFee_;
        baseFeeScalar = baseFeeScalar_;
        blobBaseFeeScalar = blobBaseFeeScalar_;
        _overhead = overhead_;
        _scalar = scalar_;
    }

    function setOperatorFee(bool isthmus, uint32 scalar_, uint64 constant_) external {
        isIsthmus = isthmus;
        operatorFeeScalar = scalar_;
        operatorFeeConstant = constant_;
    }

    function decimals() external pure returns (uint256) {
        return DECIMALS;
    }

    function isFjord() external pure returns (bool) {
        return false;
    }

    function gasPrice() external view returns (uint256) {
        return block.basefee;
    }

    function baseFee() external view returns (uint256) {
        return block.basefee;
    }

    function overhead() external view returns (uint256) {
        require(!isEcotone, "GasPriceOracle: overhead() is deprecated");
        return _overhead;
    }

    function scalar() external view returns (uint256) {
        require(!isEcotone, "GasPriceOracle: scalar() is deprecated");
        return _scalar;
    }

    /// @notice L1 data fee of an unsigned, fully RLP-encoded transaction (68 bytes are added
    /// for the signature it does not carry yet).
    function getL1Fee(bytes memory _data) external view returns (uint256) {
        uint256 l1GasUsed = _calldataGas(_data);
        if (isEcotone) {
            uint256 scaledBaseFee = uint256(baseFeeScalar) * 16 * l1BaseFee;
            uint256 scaledBlobBaseFee = uint256(blobBaseFeeScalar) * blobBaseFee;
            return (l1GasUsed * (scaledBaseFee + scaledBlobBaseFee)) / (16 * 10 ** DECIMALS);
        }
        return ((l1GasUsed + _overhead) * l1BaseFee * _scalar) / (10 ** DECIMALS);
    }

    function getL1GasUsed(bytes memory _data) external view returns (uint256) {
        uint256 l1GasUsed = _calldataGas(_data);
        return isEcotone ? l1GasUsed : l1GasUsed + _overhead;
    }

    /// @notice Isthmus operator fee: gasUsed * scalar / 1e6 + constant (0 before Isthmus).
    function getOperatorFee(uint256 _gasUsed) external view returns (uint256) {
        if (!isIsthmus) return 0;
        return (_gasUsed * operatorFeeScalar) / 1e6 + operatorFeeConstant;
    }

    function _calldataGas(bytes memory _data) internal pure returns (uint256 total) {
        uint256 length = _data.length;
        for (uint256 i = 0; i < length; i++) {
            total += _data[i] == 0 ? 4 : 16;
        }
        return total + (68 * 16);
    }
}
