// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @notice Settled work of a labeler across all campaigns: what badge levels are computed from.
interface ILabelerStats {
    /// @return totalAccepted accepted labels over all settlements
    /// @return avgQualityBps accepted-weighted mean quality score (0..10000)
    /// @return settlements settlement entries that credited the labeler
    function labelerStats(address labeler)
        external
        view
        returns (uint64 totalAccepted, uint16 avgQualityBps, uint32 settlements);
}
