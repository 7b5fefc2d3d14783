// "My work" on one campaign, on chain: stake, claimable pay, locked vesting with its unlock time,
// slashed or not; "Withdraw" when something is claimable and "Withdraw stake" once the campaign is closed.
import type { ChainInfo, PositionsView } from './chainApi.ts'
import type { TokenInfo } from '../../../src/chain/app-reads.ts'
import { amount, when } from './format.ts'
import { escrowCall } from './calls.ts'
import { walletClients } from './eth.ts'
import { TxSteps, useTxFlow } from './TxSteps.tsx'

type Pos = PositionsView['campaigns'][number]

export function PositionPanel({ info, pos, token, address, chainNow, onChanged }: { info: ChainInfo; pos: Pos; token: TokenInfo; address: string; chainNow: number; onChanged: () => void }) {
  const pay = useTxFlow()
  const stake = useTxFlow()
  const id = BigInt(pos.campaignId)
  const claimable = BigInt(pos.claimable)
  // The stake unlocks when the settlement window after close is over (judged by the chain's clock).
  const stakeUnlocked = !pos.open && pos.stakeUnlocksAt > 0 && chainNow >= pos.stakeUnlocksAt
  const canWithdrawStake = stakeUnlocked && BigInt(pos.stake) > 0n && !pos.slashed
  const connect = () => walletClients(info, address)
  const withdraw = () => pay.run(connect, [{ label: `Withdraw ${amount(pos.claimable, token)}`, make: async () => escrowCall(info, 'withdraw', [id]) }], async () => onChanged())
  const withdrawStake = () => stake.run(connect, [{ label: `Withdraw stake ${amount(pos.stake, token)}`, make: async () => escrowCall(info, 'withdrawStake', [id]) }], async () => onChanged())
  const locked = BigInt(pos.vesting) > 0n
  return (
    <div className="position" data-testid={`position-${pos.campaignId}`}>
      <dl className="kv">
        <div>
          <dt>Stake</dt>
          <dd data-testid="pos-stake">
            <b>{amount(pos.stake, token)}</b> <span className="small muted">{pos.slashed ? 'taken by a fraud proof' : pos.open ? 'locked while the campaign is open' : BigInt(pos.stake) === 0n ? 'returned' : stakeUnlocked ? 'withdrawable' : `closed; unlocks ${when(pos.stakeUnlocksAt)} after the settlement window`}</span>
          </dd>
        </div>
        <div>
          <dt>Claimable</dt>
          <dd data-testid="pos-claimable">
            <b>{amount(pos.claimable, token)}</b>
          </dd>
        </div>
        <div>
          <dt>Vesting</dt>
          <dd data-testid="pos-vesting">
            <b>{amount(pos.vesting, token)}</b>{' '}
            <span className="small muted">
              {locked ? `unlocks ${when(pos.unlockAt)}` : 'nothing locked'}
              {BigInt(pos.bonusReserve) > 0n ? ` · bonus ${amount(pos.bonusReserve, token)} reserved, paid at unlock if quality holds` : ''}
            </span>
          </dd>
        </div>
        <div>
          <dt>Withdrawn</dt>
          <dd data-testid="pos-withdrawn">{amount(pos.withdrawn, token)}</dd>
        </div>
        <div>
          <dt>Status</dt>
          <dd data-testid="pos-status">{pos.slashed ? <span className="chip bad">slashed (proven fraud)</span> : <span className="chip ok">in good standing</span>}</dd>
        </div>
      </dl>
      <div className="row">
        <button className="primary" disabled={claimable === 0n || pay.busy} onClick={withdraw} data-testid={`withdraw-${pos.campaignId}`}>
          {pay.busy ? 'Withdrawing…' : 'Withdraw'}
        </button>
        {canWithdrawStake ? (
          <button disabled={stake.busy} onClick={withdrawStake} data-testid={`withdraw-stake-${pos.campaignId}`}>
            {stake.busy ? 'Withdrawing stake…' : 'Withdraw stake'}
          </button>
        ) : null}
      </div>
      <TxSteps flow={pay} testid={`tx-withdraw-${pos.campaignId}`} />
      <TxSteps flow={stake} testid={`tx-withdraw-stake-${pos.campaignId}`} />
    </div>
  )
}
