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
/// (the labeling service's key, one the owner lists as trusted and never the requester) settles
/// exports of labels: Merkle root of the label hashes, dataset CID and, per labeler, the cumulative
/// accepted count and a quality score in basis points. The escrow keeps each labeler's settled
/// cumulative count and pays only the increase, `newAccepted * rewardPerLabel * qualityBps / 10000`,
/// so settling the same or an older export again pays nothing and an export can be settled in pages.
/// `immediateBps` of a payment is claimable at once; the rest vests for `vestingPeriod`. When the
/// score is at or above the threshold, `bonusBps` of the vesting deposit is set aside from the budget
/// as a bonus reserve, paid with the deposit at unlock if the labeler's quality holds until then and
/// returned to the budget at the first settlement that scores below the threshold.
/// An oracle-signed fraud proof (gold-task failures beyond the campaign's limit) slashes the labeler's
/// join stake, vesting stake and bonus reserve back into the budget.
/// Life cycle: open -> closed (by the requester at any time, by anyone after the deadline) ->
/// settlement window (settle and slash still land; nothing new joins) -> stakes unlock and the
/// unspent budget can be refunded to the requester. See docs/chain.md for the exact rules.
/// @dev Payments are pull-based (labelers call `withdraw`), so a settlement makes no external calls
/// at all and one bad recipient cannot block a batch. Every function that moves tokens is
/// nonReentrant and follows checks-effects-interactions. Pause stops money in (create, fund, join)
/// and the oracle's actions (settle, slash), never money out (withdraw, withdrawStake, refund, close).
contract LabelingEscrow is Ownable, Pausable, ReentrancyGuard, EIP712, ILabelerStats {
    using SafeERC20 for IERC20;

    uint256 public constant BPS = 10_000;
    /// @notice Most labelers one settlement may carry (bounds the loop and the gas of a batch).
    uint256 public constant MAX_BATCH_LABELERS = 200;
    /// @notice Bounds on the settlement window after close: long enough for the oracle to settle the
    /// last export and land pending slashes, short enough that stakes do not stay locked for long.
    uint64 public constant MIN_SETTLEMENT_WINDOW = 1 days;
    uint64 public constant MAX_SETTLEMENT_WINDOW = 30 days;
    /// @notice Longest a campaign may run before anyone can close it (stakes are locked until then).
    uint64 public constant MAX_DURATION = 730 days;
    bytes32 public constant FRAUD_PROOF_TYPEHASH = keccak256(
        "FraudProof(uint256 campaignId,address labeler,uint32 goldFailures,uint32 goldTotal,string evidenceCid)"
    );

    struct CampaignParams {
        uint128 rewardPerLabel; // token units per accepted label at quality 10000 bps
        uint128 requiredStake; // minimum labeler stake to join
        uint16 qualityThresholdBps; // vesting stake appreciates only at or above this score
        uint16 immediateBps; // share of each payment claimable at once; the rest vests
        uint16 bonusBps; // bonus on a vesting deposit held for its whole vestingPeriod at quality
        uint16 fraudGoldFailBps; // a gold failure rate strictly above this is proven fraud
        uint64 vestingPeriod; // seconds a vesting deposit stays locked
        uint64 deadline; // unix time after which anyone may close the campaign
        uint64 settlementWindow; // seconds after close during which settle and slash still land
    }

    struct Campaign {
        address requester;
        address oracle;
        IERC20 token;
        bool open;
        uint32 batches; // distinct Merkle roots settled so far (batch indices are 1-based)
        uint64 closedAt; // 0 while open
        CampaignParams params;
        // Token accounting. Held by the escrow for this campaign: budget + committed + stakes.
        uint128 budget; // funded and not yet credited to anyone
        uint128 committed; // credited to labelers (claimable + vesting + bonus reserve), not yet withdrawn
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
        uint128 vesting; // locked vesting deposits
        uint64 unlockAt; // when `vesting` and `bonusReserve` become claimable
        uint32 settledAccepted; // cumulative accepted labels already paid for
        bool joined;
        bool slashed;
        uint128 withdrawn; // pay withdrawn in total
        uint128 bonusReserve; // bonus set aside for `vesting`, paid at unlock if quality holds
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
        uint32 accepted; // cumulative accepted labels of this labeler in the campaign so far
        uint16 qualityBps;
    }

    uint256 public campaignCount;
    mapping(uint256 => Campaign) internal _campaigns;
    mapping(uint256 => mapping(address => Position)) internal _positions;
    mapping(uint256 => mapping(bytes32 => uint32)) public batchIndexOf; // campaign => merkle root => index
    mapping(uint256 => mapping(uint32 => bytes32)) public batchRoot; // campaign => index => merkle root
    mapping(address => Stats) internal _stats;
    /// @notice Oracles the owner trusts. A campaign can only be created with, joined under, and
    /// slashed by a trusted oracle; only trusted oracles' settlements count toward labelers' stats.
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
    error AcceptedExceedsLabels(uint256 accepted, uint256 labelCount);
    error UntrustedOracle(address oracle);
    error RequesterIsOracle(address requester);
    error BadDeadline(uint256 deadline);
    error BadSettlementWindow(uint256 window);
    error CloseNotAllowed(address caller, uint256 deadline);
    error SettlementOver(uint256 campaignId, uint256 endedAt);
    error SettlementWindowOpen(uint256 campaignId, uint256 endsAt);
    error JoinAfterDeadline(uint256 campaignId, uint256 deadline);
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
    event CampaignClosed(uint256 indexed campaignId, address indexed by, uint256 settlementEndsAt);
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
        uint256 bonusReserved
    );
    event BonusForfeited(uint256 indexed campaignId, address indexed labeler, uint256 amount);
    event TrustedOracleSet(address indexed oracle, bool trusted);
    event VestingReleased(uint256 indexed campaignId, address indexed labeler, uint256 amount, uint256 bonus);
    event Withdrawn(uint256 indexed campaignId, address indexed labeler, uint256 amount);
    event Slashed(
        uint256 indexed campaignId,
        address indexed labeler,
        uint256 fromStake,
        uint256 fromVesting,
        uint256 fromBonusReserve,
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
    /// The oracle must be trusted by the owner and must not be the caller.
    function createCampaign(IERC20 token, address oracle, CampaignParams calldata p, uint256 initialFunding)
        external
        nonReentrant
        whenNotPaused
        returns (uint256 id)
    {
        if (address(token) == address(0) || oracle == address(0)) revert ZeroAddress();
        if (oracle == msg.sender) revert RequesterIsOracle(msg.sender);
        if (!trustedOracle[oracle]) revert UntrustedOracle(oracle);
        if (p.rewardPerLabel == 0) revert ZeroAmount();
        _checkBps(p.qualityThresholdBps);
        _checkBps(p.immediateBps);
        _checkBps(p.bonusBps);
        _checkBps(p.fraudGoldFailBps);
        if (p.deadline <= block.timestamp || p.deadline > block.timestamp + MAX_DURATION) revert BadDeadline(p.deadline);
        if (p.settlementWindow < MIN_SETTLEMENT_WINDOW || p.settlementWindow > MAX_SETTLEMENT_WINDOW) {
            revert BadSettlementWindow(p.settlementWindow);
        }
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

    /// @notice Close the campaign: the requester at any time, anyone once the deadline has passed.
    /// Nobody can join after close; the oracle can still settle and slash during the settlement
    /// window; then stakes unlock and `refund` returns the unspent budget. Works while paused.
    function close(uint256 id) external nonReentrant {
        Campaign storage c = _openCampaign(id);
        if (msg.sender != c.requester && block.timestamp < c.params.deadline) {
            revert CloseNotAllowed(msg.sender, c.params.deadline);
        }
        c.open = false;
        c.closedAt = uint64(block.timestamp);
        emit CampaignClosed(id, msg.sender, block.timestamp + c.params.settlementWindow);
    }

    /// @notice Once the settlement window is over, send the unspent budget to the requester
    /// (anyone may call it). Works while paused.
    function refund(uint256 id) external nonReentrant returns (uint256 amount) {
        Campaign storage c = _campaign(id);
        _requireSettlementOver(c, id);
        amount = c.budget;
        if (amount == 0) revert NothingToWithdraw();
        c.budget = 0;
        c.refunded += uint128(amount);
        emit Refunded(id, c.requester, amount);
        c.token.safeTransfer(c.requester, amount);
    }

    // ---- labeler ----

    /// @notice Stake `amount` (at least the campaign's required stake) to join an open campaign
    /// before its deadline, while its oracle is still trusted.
    function join(uint256 id, uint256 amount) external nonReentrant whenNotPaused {
        Campaign storage c = _openCampaign(id);
        if (block.timestamp >= c.params.deadline) revert JoinAfterDeadline(id, c.params.deadline);
        if (!trustedOracle[c.oracle]) revert UntrustedOracle(c.oracle);
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

    /// @notice Withdraw everything claimable, including vesting stake (and its bonus) whose lock has
    /// expired. Reverts with StillLocked when only locked vesting stake is left. Works while paused.
    function withdraw(uint256 id) external nonReentrant returns (uint256 amount) {
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

    /// @notice Take back the join stake once the campaign is closed and its settlement window is
    /// over (so a pending slash cannot be escaped). Works while paused.
    function withdrawStake(uint256 id) external nonReentrant returns (uint256 amount) {
        Campaign storage c = _campaign(id);
        _requireSettlementOver(c, id);
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

    /// @notice Settle one page of an export (oracle only), while the campaign is open or in its
    /// settlement window. `merkleRoot` commits to the export's label hashes, `labelCount` is how
    /// many labels it holds, `results` carry each labeler's cumulative accepted count and quality.
    /// Only the increase over the labeler's settled count is paid, so pages of one export, retries
    /// and older exports settle without paying a label twice. Reverts as a whole when an entry is
    /// invalid or the budget cannot cover the base pay; bonus reserves are capped by what is left.
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

    /// @notice Slash a labeler on an oracle-signed fraud proof (anyone may submit it) while the
    /// campaign is open or in its settlement window, and only while its oracle is trusted. The proof
    /// is EIP-712 typed data `FraudProof`; it must show a gold failure rate strictly above the
    /// campaign's `fraudGoldFailBps`. The join stake, vesting stake and bonus reserve go back to the
    /// campaign's budget; pay already claimable is not taken.
    function slash(
        uint256 id,
        address labeler,
        uint32 goldFailures,
        uint32 goldTotal,
        string calldata evidenceCid,
        bytes calldata signature
    ) external nonReentrant whenNotPaused {
        Campaign storage c = _campaign(id);
        _requireSettlementPeriod(c, id);
        if (!trustedOracle[c.oracle]) revert UntrustedOracle(c.oracle);
        _checkFraudProof(c, id, labeler, goldFailures, goldTotal, evidenceCid, signature);
        (uint256 fromStake, uint256 fromVesting, uint256 fromReserve) = _takeStakes(c, id, labeler);
        emit Slashed(id, labeler, fromStake, fromVesting, fromReserve, goldFailures, goldTotal, evidenceCid);
        c.budget += uint128(fromStake + fromVesting + fromReserve);
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

    /// @notice When the settlement window of a closed campaign ends (0 while it is open).
    function settlementEndsAt(uint256 id) public view returns (uint256) {
        Campaign storage c = _campaign(id);
        return c.open ? 0 : uint256(c.closedAt) + c.params.settlementWindow;
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

    /// @notice What a settlement entry with cumulative count `accepted` would credit now:
    /// (immediate, vested, bonus reserve before the budget cap).
    function previewCredit(uint256 id, address labeler, uint32 accepted, uint16 qualityBps)
        external
        view
        returns (uint256 immediate, uint256 vested, uint256 bonusReserve)
    {
        Campaign storage c = _campaign(id);
        uint256 settled = _positions[id][labeler].settledAccepted;
        uint256 added = accepted > settled ? accepted - settled : 0;
        (immediate, vested, bonusReserve) = _payFor(c.params, added, qualityBps);
    }

    /// @notice The Merkle leaf of a label: its hash hashed twice (OpenZeppelin StandardMerkleTree
    /// style), so an inner node of the tree can never pass as a label.
    function labelLeaf(bytes32 labelHash) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(labelHash))));
    }

    /// @notice Whether `labelHash` belongs to settled batch `batchIndex` of campaign `id`.
    function isLabelInBatch(uint256 id, uint32 batchIndex, bytes32 labelHash, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 root = batchRoot[id][batchIndex];
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, labelLeaf(labelHash));
    }

    // ---- internals ----

    function _payFor(CampaignParams memory p, uint256 added, uint256 qualityBps)
        internal
        pure
        returns (uint256 immediate, uint256 vested, uint256 bonusReserve)
    {
        uint256 gross = added * p.rewardPerLabel * qualityBps / BPS;
        immediate = gross * p.immediateBps / BPS;
        vested = gross - immediate;
        bonusReserve = qualityBps >= p.qualityThresholdBps ? vested * p.bonusBps / BPS : 0;
    }

    /// Running totals of one settlement: what is left of the budget, and what was credited.
    struct Tally {
        uint256 available;
        uint256 credited;
    }

    /// Credit one labeler of a batch for the labels accepted since its last settlement.
    function _credit(uint256 id, CampaignParams memory p, uint32 batchIndex, uint32 labelCount, LabelerResult calldata r, Tally memory t)
        internal
        returns (uint256 added)
    {
        address who = r.labeler;
        if (r.qualityBps > BPS) revert ScoreOutOfRange(who, r.qualityBps);
        if (r.accepted > labelCount) revert AcceptedExceedsLabels(r.accepted, labelCount);
        Position storage pos = _positions[id][who];
        if (!pos.joined) revert NotJoined(id, who);
        if (pos.slashed) revert LabelerIsSlashed(id, who);
        uint256 settled = pos.settledAccepted;
        if (r.accepted <= settled) return 0; // this export (or page) adds nothing for this labeler
        added = r.accepted - settled;
        pos.settledAccepted = r.accepted;

        // Matured vesting (and its earned bonus) becomes claimable first.
        _releaseIfUnlocked(id, who, pos);
        // Quality fell below the threshold: the bonus set aside for the locked deposits goes back.
        if (r.qualityBps < p.qualityThresholdBps && pos.bonusReserve > 0) {
            uint256 forfeit = pos.bonusReserve;
            pos.bonusReserve = 0;
            t.available += forfeit;
            t.credited -= forfeit;
            emit BonusForfeited(id, who, forfeit);
        }
        (uint256 immediate, uint256 vested, uint256 reserve) = _payFor(p, added, r.qualityBps);
        if (immediate + vested > t.available) revert OverBudget(immediate + vested, t.available);
        t.available -= immediate + vested;
        if (reserve > t.available) reserve = t.available; // never revert a batch for a bonus
        t.available -= reserve;
        t.credited += immediate + vested + reserve;

        if (vested > 0) {
            // One unlock time per position: the amount-weighted mean of the old lock and the new
            // deposit's lock, so a new deposit neither resets nor shortcuts the old one.
            uint256 locked = pos.vesting;
            uint256 newUnlock = block.timestamp + p.vestingPeriod;
            pos.unlockAt = uint64((locked * pos.unlockAt + vested * newUnlock) / (locked + vested));
            pos.vesting = uint128(locked + vested);
            pos.bonusReserve += uint128(reserve);
        }
        pos.claimable += uint128(immediate);
        emit LabelerCredited(id, who, batchIndex, uint32(added), r.qualityBps, immediate, vested, reserve);
    }

    /// Checks a settlement may run and records its Merkle root; returns its batch index. A root
    /// already settled keeps its index (a further page of the same export, or a retry).
    function _openBatch(Campaign storage c, uint256 id, bytes32 merkleRoot, uint256 n)
        internal
        returns (uint32 batchIndex)
    {
        if (msg.sender != c.oracle) revert WrongOracle(msg.sender, c.oracle);
        _requireSettlementPeriod(c, id);
        if (n == 0) revert EmptyBatch();
        if (n > MAX_BATCH_LABELERS) revert BatchTooLarge(n, MAX_BATCH_LABELERS);
        if (merkleRoot == bytes32(0)) revert ZeroMerkleRoot();
        batchIndex = batchIndexOf[id][merkleRoot];
        if (batchIndex != 0) return batchIndex;
        batchIndex = ++c.batches;
        batchIndexOf[id][merkleRoot] = batchIndex;
        batchRoot[id][batchIndex] = merkleRoot;
    }

    /// Credits every labeler of a page, then moves the total from the budget to `committed`.
    function _creditAll(
        Campaign storage c,
        uint256 id,
        uint32 batchIndex,
        uint32 labelCount,
        LabelerResult[] calldata results
    ) internal returns (uint256) {
        CampaignParams memory p = c.params;
        bool countStats = trustedOracle[c.oracle];
        // The tally starts from the campaign's budget and committed totals: a forfeited bonus moves
        // from committed back to available, a credit from available to committed.
        Tally memory t = Tally(c.budget, c.committed);
        uint256 n = results.length;
        for (uint256 i; i < n; ++i) {
            uint256 added = _credit(id, p, batchIndex, labelCount, results[i], t);
            if (added > 0 && countStats) _recordStats(results[i].labeler, added, results[i].qualityBps);
        }
        uint256 before = uint256(c.budget);
        c.budget = uint128(t.available);
        c.committed = uint128(t.credited);
        return before > t.available ? before - t.available : 0;
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

    /// Zero a labeler's join stake, vesting stake and bonus reserve and mark them slashed.
    function _takeStakes(Campaign storage c, uint256 id, address labeler)
        internal
        returns (uint256 fromStake, uint256 fromVesting, uint256 fromReserve)
    {
        Position storage pos = _positions[id][labeler];
        if (!pos.joined) revert NotJoined(id, labeler);
        if (pos.slashed) revert LabelerIsSlashed(id, labeler);
        fromStake = pos.stake;
        fromVesting = pos.vesting;
        fromReserve = pos.bonusReserve;
        pos.slashed = true;
        pos.stake = 0;
        pos.vesting = 0;
        pos.bonusReserve = 0;
        pos.unlockAt = 0;
        c.stakes -= uint128(fromStake);
        c.committed -= uint128(fromVesting + fromReserve);
        c.slashed += uint128(fromStake + fromVesting + fromReserve);
    }

    function _recordStats(address labeler, uint256 added, uint256 qualityBps) internal {
        Stats storage s = _stats[labeler];
        s.totalAccepted += uint64(added);
        s.settlements += 1;
        s.qualityWeighted += uint128(added * qualityBps);
    }

    function _releaseIfUnlocked(uint256 id, address who, Position storage pos) internal {
        uint256 v = pos.vesting;
        if (v > 0 && pos.unlockAt <= block.timestamp) {
            uint256 bonus = pos.bonusReserve;
            pos.vesting = 0;
            pos.bonusReserve = 0;
            pos.claimable += uint128(v + bonus);
            emit VestingReleased(id, who, v, bonus);
        }
    }

    function _fund(Campaign storage c, uint256 id, uint256 amount) internal {
        uint128 a = SafeCast.toUint128(amount);
        c.budget += a;
        c.funded += a;
        emit CampaignFunded(id, msg.sender, amount);
        c.token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// Settle and slash land while the campaign is open and during the window after close.
    function _requireSettlementPeriod(Campaign storage c, uint256 id) internal view {
        if (c.open) return;
        uint256 endsAt = uint256(c.closedAt) + c.params.settlementWindow;
        if (block.timestamp >= endsAt) revert SettlementOver(id, endsAt);
    }

    /// Stakes unlock and the budget is refunded only after close plus the settlement window.
    function _requireSettlementOver(Campaign storage c, uint256 id) internal view {
        if (c.open) revert CampaignStillOpen(id);
        uint256 endsAt = uint256(c.closedAt) + c.params.settlementWindow;
        if (block.timestamp < endsAt) revert SettlementWindowOpen(id, endsAt);
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
