// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ILabelerStats} from "./ILabelerStats.sol";

/// @title LabelingEscrow: escrowed labeling campaigns that pay labelers by measured quality.
/// @notice A requester funds a campaign in an ERC-20. Labelers stake to join. The campaign's oracle
/// (the labeling service's key) settles batches of labels: Merkle root of the label hashes, dataset
/// CID and, per labeler, the accepted count and a quality score in basis points. Each payment is
/// `accepted * rewardPerLabel * qualityBps / 10000`; `immediateBps` of it becomes claimable at once,
/// the rest is held as the labeler's vesting stake, which grows by `bonusBps` at every later
/// settlement where the labeler scores at or above the quality threshold, and unlocks after
/// `vestingPeriod`. An oracle-signed fraud proof (gold-task failures beyond the campaign's limit,
/// with an evidence CID) slashes the labeler's join stake and vesting stake back into the budget.
/// Closing returns the unspent budget to the requester. See docs/chain.md for the exact math.
/// @dev Payments are pull-based (labelers call `withdraw`), so a settlement makes no external calls
/// at all and one bad recipient cannot block a batch. Every function that moves tokens is
/// nonReentrant and follows checks-effects-interactions: all state is written before the transfer.
contract LabelingEscrow is Ownable, Pausable, ReentrancyGuard, EIP712, ILabelerStats {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;
    /// @notice Most labelers one settlement may carry (bounds the loop and the gas of a batch).
    uint256 public constant MAX_BATCH_LABELERS = 200;
    bytes32 public constant FRAUD_PROOF_TYPEHASH = keccak256(
        "FraudProof(uint256 campaignId,address labeler,uint32 goldFailures,uint32 goldTotal,string evidenceCid)"
    );

    struct CampaignParams {
        uint128 rewardPerLabel; // token units per accepted label at quality 10000 bps
        uint128 requiredStake; // minimum labeler stake to join
        uint16 qualityThresholdBps; // vesting stake appreciates only at or above this score
        uint16 immediateBps; // share of each payment claimable at once; the rest vests
        uint16 bonusBps; // growth of the locked vesting stake per qualifying settlement
        uint16 fraudGoldFailBps; // a gold failure rate strictly above this is proven fraud
        uint64 vestingPeriod; // seconds a vesting deposit stays locked
    }

    struct Campaign {
        address requester;
        address oracle;
        IERC20 token;
        bool open;
        uint32 batches; // settled batches so far (batch indices are 1-based)
        CampaignParams params;
        // Token accounting. Held by the escrow for this campaign: budget + committed + stakes.
        uint128 budget; // funded and not yet credited to anyone
        uint128 committed; // credited to labelers (claimable + vesting), not yet withdrawn
        uint128 stakes; // join stakes held
        uint128 funded; // deposited by the requester, total
        uint128 stakedIn; // join stakes received, total
        uint128 paidOut; // transferred to labelers as pay, total
        uint128 refunded; // returned to the requester, total
        uint128 stakeReturned; // join stakes returned to labelers, total
        uint128 slashed; // moved from labelers' stakes back to the campaign, total
    }

    struct Position {
        uint128 stake; // join stake held
        uint128 claimable; // withdrawable now
        uint128 vesting; // locked vesting stake (appreciates while quality holds)
        uint64 unlockAt; // when `vesting` becomes claimable
        uint32 lastBatch; // last batch index that credited this labeler (duplicate guard)
        bool joined;
        bool slashed;
        uint128 withdrawn; // pay withdrawn in total (earnings = withdrawn + claimable + vesting)
    }

    /// One slot per labeler across campaigns. `join` bumps `campaignsJoined`, so the slot is
    /// already non-zero when the oracle's settlement first writes it (5k instead of 20k gas).
    struct Stats {
        uint64 totalAccepted;
        uint32 settlements;
        uint32 campaignsJoined;
        uint128 qualityWeighted; // sum of accepted * qualityBps
    }

    struct LabelerResult {
        address labeler;
        uint32 accepted;
        uint16 qualityBps;
    }

    uint256 public campaignCount;
    mapping(uint256 => Campaign) internal _campaigns;
    mapping(uint256 => mapping(address => Position)) internal _positions;
    mapping(uint256 => mapping(bytes32 => uint32)) public batchIndexOf; // campaign => merkle root => index
    mapping(uint256 => mapping(uint32 => bytes32)) public batchRoot; // campaign => index => merkle root
    mapping(address => Stats) internal _stats;
    /// @notice Oracles whose settlements count toward labelers' global stats (and so badge levels).
    /// Pay never depends on this; it only stops a self-made campaign from minting reputation.
    mapping(address => bool) public trustedOracle;

    // ---- errors ----
    error UnknownCampaign(uint256 campaignId);
    error ZeroAddress();
    error ZeroAmount();
    error InvalidBps(uint256 value);
    error NotRequester(address caller, address requester);
    error WrongOracle(address caller, address oracle);
    error CampaignNotOpen(uint256 campaignId);
    error CampaignStillOpen(uint256 campaignId);
    error StakeBelowMinimum(uint256 amount, uint256 required);
    error AlreadyJoined(uint256 campaignId, address labeler);
    error NotJoined(uint256 campaignId, address labeler);
    error LabelerIsSlashed(uint256 campaignId, address labeler);
    error EmptyBatch();
    error ZeroMerkleRoot();
    error BatchTooLarge(uint256 size, uint256 max);
    error BatchAlreadySettled(uint256 campaignId, bytes32 merkleRoot);
    error ScoreOutOfRange(address labeler, uint256 qualityBps);
    error DuplicateLabeler(address labeler);
    error AcceptedExceedsLabels(uint256 accepted, uint256 labelCount);
    error OverBudget(uint256 needed, uint256 available);
    error FraudNotProven(uint256 goldFailures, uint256 goldTotal, uint256 limitBps);
    error NothingToWithdraw();
    error StillLocked(uint256 unlockAt);

    // ---- events ----
    event CampaignCreated(
        uint256 indexed campaignId,
        address indexed requester,
        address indexed oracle,
        address token,
        CampaignParams params
    );
    event CampaignFunded(uint256 indexed campaignId, address indexed from, uint256 amount);
    event CampaignClosed(uint256 indexed campaignId, uint256 refunded);
    event Refunded(uint256 indexed campaignId, address indexed requester, uint256 amount);
    event Joined(uint256 indexed campaignId, address indexed labeler, uint256 stake);
    event StakeWithdrawn(uint256 indexed campaignId, address indexed labeler, uint256 amount);
    event BatchSettled(
        uint256 indexed campaignId,
        uint32 indexed batchIndex,
        bytes32 merkleRoot,
        string datasetCid,
        uint32 labelCount,
        uint256 labelers,
        uint256 credited
    );
    event LabelerCredited(
        uint256 indexed campaignId,
        address indexed labeler,
        uint32 indexed batchIndex,
        uint32 accepted,
        uint16 qualityBps,
        uint256 immediate,
        uint256 vested,
        uint256 bonus
    );
    event TrustedOracleSet(address indexed oracle, bool trusted);
    event VestingReleased(uint256 indexed campaignId, address indexed labeler, uint256 amount);
    event Withdrawn(uint256 indexed campaignId, address indexed labeler, uint256 amount);
    event Slashed(
        uint256 indexed campaignId,
        address indexed labeler,
        uint256 fromStake,
        uint256 fromVesting,
        uint32 goldFailures,
        uint32 goldTotal,
        string evidenceCid
    );

    constructor(address owner_) Ownable(owner_) EIP712("instruct3 LabelingEscrow", "1") {}

    // ---- admin ----

    function pause() external onlyOwner {
        _pause();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    function setTrustedOracle(address oracle, bool trusted) external onlyOwner {
        if (oracle == address(0)) revert ZeroAddress();
        trustedOracle[oracle] = trusted;
        emit TrustedOracleSet(oracle, trusted);
    }

    // ---- requester ----

    /// @notice Open a campaign paid in `token`, settled by `oracle`, and deposit `initialFunding`.
    function createCampaign(IERC20 token, address oracle, CampaignParams calldata p, uint256 initialFunding)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 id)
    {
        if (address(token) == address(0) || oracle == address(0)) revert ZeroAddress();
        if (p.rewardPerLabel == 0) revert ZeroAmount();
        _checkBps(p.qualityThresholdBps);
        _checkBps(p.immediateBps);
        _checkBps(p.bonusBps);
        _checkBps(p.fraudGoldFailBps);
        id = ++campaignCount;
        Campaign storage c = _campaigns[id];
        c.requester = msg.sender;
        c.oracle = oracle;
        c.token = token;
        c.open = true;
        c.params = p;
        emit CampaignCreated(id, msg.sender, oracle, address(token), p);
        if (initialFunding > 0) _fund(c, id, initialFunding);
    }

    /// @notice Add budget to an open campaign (requester only).
    function fund(uint256 id, uint256 amount) external nonReentrant whenNotPaused {
        Campaign storage c = _openCampaign(id);
        if (msg.sender != c.requester) revert NotRequester(msg.sender, c.requester);
        if (amount == 0) revert ZeroAmount();
        _fund(c, id, amount);
    }

    /// @notice Close the campaign and return its unspent budget to the requester. Credited pay and
    /// stakes stay in the escrow for the labelers to withdraw.
    function close(uint256 id) external nonReentrant whenNotPaused {
        Campaign storage c = _openCampaign(id);
        if (msg.sender != c.requester) revert NotRequester(msg.sender, c.requester);
        c.open = false;
        uint256 refund = c.budget;
        c.budget = 0;
        c.refunded += uint128(refund);
        emit CampaignClosed(id, refund);
        if (refund > 0) {
            emit Refunded(id, c.requester, refund);
            c.token.safeTransfer(c.requester, refund);
        }
    }

    // ---- labeler ----

    /// @notice Stake `amount` (at least the campaign's required stake) to join an open campaign.
    function join(uint256 id, uint256 amount) external nonReentrant whenNotPaused {
        Campaign storage c = _openCampaign(id);
        uint256 required = c.params.requiredStake;
        if (amount < required) revert StakeBelowMinimum(amount, required);
        Position storage pos = _positions[id][msg.sender];
        if (pos.joined) revert AlreadyJoined(id, msg.sender);
        pos.joined = true;
        uint128 a = SafeCast.toUint128(amount);
        pos.stake = a;
        c.stakes += a;
        c.stakedIn += a;
        _stats[msg.sender].campaignsJoined += 1;
        emit Joined(id, msg.sender, amount);
        if (amount > 0) c.token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @notice Withdraw everything claimable, including vesting stake whose lock has expired.
    /// Reverts with StillLocked when only locked vesting stake is left.
    function withdraw(uint256 id) external nonReentrant whenNotPaused returns (uint256 amount) {
        Campaign storage c = _campaign(id);
        Position storage pos = _positions[id][msg.sender];
        _releaseIfUnlocked(id, msg.sender, pos);
        amount = pos.claimable;
        if (amount == 0) {
            if (pos.vesting > 0) revert StillLocked(pos.unlockAt);
            revert NothingToWithdraw();
        }
        pos.claimable = 0;
        pos.withdrawn += uint128(amount);
        c.committed -= uint128(amount);
        c.paidOut += uint128(amount);
        emit Withdrawn(id, msg.sender, amount);
        c.token.safeTransfer(msg.sender, amount);
    }

    /// @notice Take back the join stake once the campaign is closed (it is locked while open).
    function withdrawStake(uint256 id) external nonReentrant whenNotPaused returns (uint256 amount) {
        Campaign storage c = _campaign(id);
        if (c.open) revert CampaignStillOpen(id);
        Position storage pos = _positions[id][msg.sender];
        amount = pos.stake;
        if (amount == 0) revert NothingToWithdraw();
        pos.stake = 0;
        c.stakes -= uint128(amount);
        c.stakeReturned += uint128(amount);
        emit StakeWithdrawn(id, msg.sender, amount);
        c.token.safeTransfer(msg.sender, amount);
    }

    // ---- oracle ----

    /// @notice Settle one batch of labels (oracle only). `merkleRoot` commits to the batch's label
    /// hashes, `labelCount` is how many labels it holds, `results` the per-labeler outcome.
    /// The whole batch reverts if any entry is invalid or the budget cannot cover it.
    function settle(
        uint256 id,
        bytes32 merkleRoot,
        uint32 labelCount,
        string calldata datasetCid,
        LabelerResult[] calldata results
    ) external nonReentrant whenNotPaused returns (uint32 batchIndex) {
        Campaign storage c = _campaign(id);
        batchIndex = _openBatch(c, id, merkleRoot, results.length);
        uint256 total = _creditAll(c, id, batchIndex, labelCount, results);
        emit BatchSettled(id, batchIndex, merkleRoot, datasetCid, labelCount, results.length, total);
    }

    /// @notice Slash a labeler on an oracle-signed fraud proof (anyone may submit it). The proof is
    /// EIP-712 typed data `FraudProof`; it must show a gold failure rate strictly above the
    /// campaign's `fraudGoldFailBps`. The join stake and the vesting stake go back to the campaign
    /// (to the requester if the campaign is already closed); pay already claimable is not taken.
    function slash(
        uint256 id,
        address labeler,
        uint32 goldFailures,
        uint32 goldTotal,
        string calldata evidenceCid,
        bytes calldata signature
    ) external nonReentrant whenNotPaused {
        Campaign storage c = _campaign(id);
        _checkFraudProof(c, id, labeler, goldFailures, goldTotal, evidenceCid, signature);
        (uint256 fromStake, uint256 fromVesting) = _takeStakes(c, id, labeler);
        emit Slashed(id, labeler, fromStake, fromVesting, goldFailures, goldTotal, evidenceCid);
        uint256 amount = fromStake + fromVesting;
        if (c.open) {
            c.budget += uint128(amount);
        } else if (amount > 0) {
            c.refunded += uint128(amount);
            emit Refunded(id, c.requester, amount);
            c.token.safeTransfer(c.requester, amount);
        }
    }

    // ---- views ----

    function fraudProofDigest(
        uint256 id,
        address labeler,
        uint32 goldFailures,
        uint32 goldTotal,
        string calldata evidenceCid
    ) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(FRAUD_PROOF_TYPEHASH, id, labeler, goldFailures, goldTotal, keccak256(bytes(evidenceCid)))
            )
        );
    }

    function getCampaign(uint256 id) external view returns (Campaign memory) {
        return _campaign(id);
    }

    function getPosition(uint256 id, address labeler) external view returns (Position memory) {
        return _positions[id][labeler];
    }

    /// @inheritdoc ILabelerStats
    function labelerStats(address labeler)
        external
        view
        returns (uint64 totalAccepted, uint16 avgQualityBps, uint32 settlements)
    {
        Stats memory s = _stats[labeler];
        totalAccepted = s.totalAccepted;
        settlements = s.settlements;
        avgQualityBps = totalAccepted == 0 ? 0 : uint16(s.qualityWeighted / totalAccepted);
    }

    /// @notice What a settlement entry would credit now: (immediate, vested, bonus).
    function previewCredit(uint256 id, address labeler, uint32 accepted, uint16 qualityBps)
        external
        view
        returns (uint256 immediate, uint256 vested, uint256 bonus)
    {
        Campaign storage c = _campaign(id);
        Position storage pos = _positions[id][labeler];
        uint256 locked = pos.unlockAt > block.timestamp ? pos.vesting : 0;
        (immediate, vested, bonus) = _payFor(c.params, locked, accepted, qualityBps);
    }

    /// @notice Whether `labelHash` belongs to settled batch `batchIndex` of campaign `id`.
    function isLabelInBatch(uint256 id, uint32 batchIndex, bytes32 labelHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = batchRoot[id][batchIndex];
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, labelHash);
    }

    // ---- internals ----

    function _payFor(CampaignParams memory p, uint256 lockedVesting, uint256 accepted, uint256 qualityBps)
        internal
        pure
        returns (uint256 immediate, uint256 vested, uint256 bonus)
    {
        uint256 gross = accepted * p.rewardPerLabel * qualityBps / BPS;
        immediate = gross * p.immediateBps / BPS;
        vested = gross - immediate;
        bonus = qualityBps >= p.qualityThresholdBps ? lockedVesting * p.bonusBps / BPS : 0;
    }

    /// Credit one labeler of a batch; returns the amount moved out of the budget.
    function _credit(uint256 id, CampaignParams memory p, uint32 batchIndex, LabelerResult calldata r)
        internal
        returns (uint256)
    {
        address who = r.labeler;
        if (r.qualityBps > BPS) revert ScoreOutOfRange(who, r.qualityBps);
        Position storage pos = _positions[id][who];
        if (!pos.joined) revert NotJoined(id, who);
        if (pos.slashed) revert LabelerIsSlashed(id, who);
        if (pos.lastBatch == batchIndex) revert DuplicateLabeler(who);
        pos.lastBatch = batchIndex;

        // Matured vesting stake stops appreciating: it becomes claimable first.
        _releaseIfUnlocked(id, who, pos);
        uint256 locked = pos.vesting;
        (uint256 immediate, uint256 vested, uint256 bonus) = _payFor(p, locked, r.accepted, r.qualityBps);

        uint256 lockedAfter = locked + bonus;
        if (vested > 0) {
            // One unlock time per position: the amount-weighted mean of the old lock and the new
            // deposit's lock, so a new deposit neither resets nor shortcuts the old one.
            uint256 newUnlock = block.timestamp + p.vestingPeriod;
            pos.unlockAt = uint64((lockedAfter * pos.unlockAt + vested * newUnlock) / (lockedAfter + vested));
        }
        pos.vesting = uint128(lockedAfter + vested);
        pos.claimable += uint128(immediate);
        uint256 credit = immediate + vested + bonus;
        emit LabelerCredited(id, who, batchIndex, r.accepted, r.qualityBps, immediate, vested, bonus);
        return credit;
    }

    /// Checks a settlement may start and records its Merkle root; returns the new batch index.
    function _openBatch(Campaign storage c, uint256 id, bytes32 merkleRoot, uint256 n)
        internal
        returns (uint32 batchIndex)
    {
        if (msg.sender != c.oracle) revert WrongOracle(msg.sender, c.oracle);
        if (!c.open) revert CampaignNotOpen(id);
        if (n == 0) revert EmptyBatch();
        if (n > MAX_BATCH_LABELERS) revert BatchTooLarge(n, MAX_BATCH_LABELERS);
        if (merkleRoot == bytes32(0)) revert ZeroMerkleRoot();
        if (batchIndexOf[id][merkleRoot] != 0) revert BatchAlreadySettled(id, merkleRoot);
        batchIndex = ++c.batches;
        batchIndexOf[id][merkleRoot] = batchIndex;
        batchRoot[id][batchIndex] = merkleRoot;
    }

    /// Credits every labeler of a batch, then takes the total out of the budget (or reverts).
    function _creditAll(
        Campaign storage c,
        uint256 id,
        uint32 batchIndex,
        uint32 labelCount,
        LabelerResult[] calldata results
    ) internal returns (uint256 total) {
        CampaignParams memory p = c.params;
        bool countStats = trustedOracle[c.oracle];
        uint256 acceptedSum;
        uint256 n = results.length;
        for (uint256 i; i < n; ++i) {
            total += _credit(id, p, batchIndex, results[i]);
            acceptedSum += results[i].accepted;
            if (countStats) _recordStats(results[i]);
        }
        if (acceptedSum > labelCount) revert AcceptedExceedsLabels(acceptedSum, labelCount);
        uint256 budget = c.budget;
        if (total > budget) revert OverBudget(total, budget);
        c.budget = uint128(budget - total);
        c.committed += uint128(total);
    }

    function _checkFraudProof(
        Campaign storage c,
        uint256 id,
        address labeler,
        uint32 goldFailures,
        uint32 goldTotal,
        string calldata evidenceCid,
        bytes calldata signature
    ) internal view {
        address signer = ECDSA.recover(fraudProofDigest(id, labeler, goldFailures, goldTotal, evidenceCid), signature);
        if (signer != c.oracle) revert WrongOracle(signer, c.oracle);
        uint256 limit = c.params.fraudGoldFailBps;
        if (goldTotal == 0 || goldFailures > goldTotal || uint256(goldFailures) * BPS <= uint256(goldTotal) * limit) {
            revert FraudNotProven(goldFailures, goldTotal, limit);
        }
    }

    /// Zero a labeler's join stake and vesting stake and mark them slashed; returns both amounts.
    function _takeStakes(Campaign storage c, uint256 id, address labeler)
        internal
        returns (uint256 fromStake, uint256 fromVesting)
    {
        Position storage pos = _positions[id][labeler];
        if (!pos.joined) revert NotJoined(id, labeler);
        if (pos.slashed) revert LabelerIsSlashed(id, labeler);
        fromStake = pos.stake;
        fromVesting = pos.vesting;
        pos.slashed = true;
        pos.stake = 0;
        pos.vesting = 0;
        pos.unlockAt = 0;
        c.stakes -= uint128(fromStake);
        c.committed -= uint128(fromVesting);
        c.slashed += uint128(fromStake + fromVesting);
    }

    function _recordStats(LabelerResult calldata r) internal {
        Stats storage s = _stats[r.labeler];
        s.totalAccepted += r.accepted;
        s.settlements += 1;
        s.qualityWeighted += uint128(uint256(r.accepted) * r.qualityBps);
    }

    function _releaseIfUnlocked(uint256 id, address who, Position storage pos) internal {
        uint256 v = pos.vesting;
        if (v > 0 && pos.unlockAt <= block.timestamp) {
            pos.vesting = 0;
            pos.claimable += uint128(v);
            emit VestingReleased(id, who, v);
        }
    }

    function _fund(Campaign storage c, uint256 id, uint256 amount) internal {
        uint128 a = SafeCast.toUint128(amount);
        c.budget += a;
        c.funded += a;
        emit CampaignFunded(id, msg.sender, amount);
        c.token.safeTransferFrom(msg.sender, address(this), amount);
    }

    function _campaign(uint256 id) internal view returns (Campaign storage c) {
        c = _campaigns[id];
        if (c.requester == address(0)) revert UnknownCampaign(id);
    }

    function _openCampaign(uint256 id) internal view returns (Campaign storage c) {
        c = _campaign(id);
        if (!c.open) revert CampaignNotOpen(id);
    }

    function _checkBps(uint256 v) internal pure {
        if (v > BPS) revert InvalidBps(v);
    }
}
