// "Stake & earn": every campaign that is on chain with its terms, "Stake and join" (ERC-20 approve,
// then join: two wallet prompts, each step's state shown), and once joined the position and badge.
import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from '../api.ts'
import { chainCampaign, chainInfo, myPositions, type ChainCampaignView, type ChainInfo, type PositionsView, type ServiceCampaign } from './chainApi.ts'
import { CampaignTerms } from './CampaignTerms.tsx'
import { PositionPanel } from './PositionPanel.tsx'
import { BadgeCard } from './BadgeCard.tsx'
import { NetworkBanner } from './NetworkBanner.tsx'
import { TxSteps, useTxFlow } from './TxSteps.tsx'
import { approveIfNeeded, escrowCall } from './calls.ts'
import { walletClients } from './eth.ts'
import { amount } from './format.ts'
import './chain.css'

/**
 * Loads the deployment and the signed-in labeler's positions; `refresh(true)` re-reads past the server's cache.
 * A page reads fresh when it opens: the server's cache may hold a read from a few seconds ago (e.g. from
 * before a settlement or a slash that other people sent), and the page does not poll, so a cached read
 * would stay on screen. A fresh read costs the node one eth_blockNumber when no block was mined since.
 * Only the latest request's answer is shown: an older read that answers late does not overwrite a newer one.
 */
export function useChainState() {
  const [info, setInfo] = useState<ChainInfo | null | undefined>(undefined)
  const [pos, setPos] = useState<PositionsView | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const latest = useRef(0)
  const refresh = useCallback(async (fresh = false) => {
    const n = ++latest.current
    try {
      const i = await chainInfo()
      if (n !== latest.current) return
      setInfo(i)
      if (!i) return
      const p = await myPositions(fresh)
      if (n === latest.current) setPos(p)
    } catch (e) {
      if (n === latest.current) setErr((e as Error).message)
    }
  }, [])
  useEffect(() => {
    refresh(true)
  }, [refresh])
  return { info, pos, err, refresh }
}

/** "Read at 10:53 · Refresh": positions are cached by the server for a few seconds; this re-reads the chain. */
export function RefreshButton({ pos, refresh }: { pos: PositionsView | null; refresh: (fresh: boolean) => Promise<void> }) {
  const [busy, setBusy] = useState(false)
  return (
    <span className="small muted">
      {pos ? `read ${new Date(pos.readAt).toLocaleTimeString()} ` : ''}
      <button
        className="ghost"
        disabled={busy}
        data-testid="refresh-chain"
        onClick={() => {
          setBusy(true)
          refresh(true).finally(() => setBusy(false))
        }}
      >
        Refresh
      </button>
    </span>
  )
}

export function LabelerChainPage() {
  const { info, pos, err, refresh } = useChainState()
  const [campaigns, setCampaigns] = useState<ServiceCampaign[]>([])
  useEffect(() => {
    api<{ campaigns: ServiceCampaign[] }>('GET', '/api/campaigns').then((r) => setCampaigns(r.campaigns.filter((c) => c.chain_campaign_id)))
  }, [])
  if (err) return <div className="error">{err}</div>
  if (info === undefined) return <p className="muted">Loading…</p>
  if (info === null) return <p className="muted">This labeling service runs without a chain deployment: labels are not paid on chain here.</p>
  return (
    <div className="chainpage" data-testid="stake-page">
      <NetworkBanner info={info} onSwitched={() => refresh(true)} />
      {pos ? <BadgeCard p={pos} /> : null}
      <div className="row spread">
        <h2>Campaigns paying on chain</h2>
        <RefreshButton pos={pos} refresh={refresh} />
      </div>
      {!campaigns.length ? <p className="muted">No campaign is on chain yet.</p> : null}
      {campaigns.map((c) => (
        <ChainCampaignCard key={c.id} info={info} service={c} pos={pos} onChanged={() => refresh(true)} />
      ))}
    </div>
  )
}

function ChainCampaignCard({ info, service, pos, onChanged }: { info: ChainInfo; service: ServiceCampaign; pos: PositionsView | null; onChanged: () => void }) {
  const [c, setC] = useState<ChainCampaignView | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const join = useTxFlow()
  const load = useCallback(() => chainCampaign(service.chain_campaign_id!).then(setC, (e) => setErr(e.message)), [service.chain_campaign_id])
  useEffect(() => {
    load()
  }, [load])
  const mine = pos?.campaigns.find((p) => p.campaignId === service.chain_campaign_id)
  if (err) return <div className="error">{err}</div>
  if (!c || !pos) return <section className="card muted">Loading campaign {service.name}…</section>
  const stake = BigInt(c.terms.requiredStake)
  const id = BigInt(c.id)
  const stakeAndJoin = () =>
    join.run(
      () => walletClients(info, pos.address),
      [
        { label: `Approve ${amount(stake, c.token)} for the escrow`, make: approveIfNeeded(info, c.token.address, stake) },
        { label: `Join campaign #${c.id} with a stake of ${amount(stake, c.token)}`, make: async () => escrowCall(info, 'join', [id, stake]) },
      ],
      async () => {
        onChanged()
        load()
      },
    ).then((ok) => {
      // A failed join usually means the campaign changed meanwhile (e.g. closed): show its state now.
      if (!ok) load()
    })
  return (
    <section className="card" data-testid={`chain-campaign-${c.id}`} aria-label={`Campaign ${service.name}`}>
      <div className="row spread">
        <h3>
          {service.name} <span className="small muted">on-chain #{c.id}</span>
        </h3>
        <span className={`chip ${c.open ? 'ok' : 'soft'}`}>{c.open ? 'open' : 'closed'}</span>
      </div>
      <CampaignTerms c={c} />
      {mine ? (
        <PositionPanel info={info} pos={mine} token={c.token} address={pos.address} chainNow={pos.chainNow} onChanged={onChanged} />
      ) : c.open && c.chainNow < Number(c.terms.deadline) ? (
        <div className="row">
          <button className="primary" onClick={stakeAndJoin} disabled={join.busy || join.done} data-testid={`join-${c.id}`}>
            {join.busy ? 'Joining…' : `Stake ${amount(stake, c.token)} and join`}
          </button>
          <span className="small muted">two wallet prompts: approve the token, then join</span>
        </div>
      ) : (
        <p className="muted small">{c.open ? 'The deadline has passed: no longer taking labelers.' : 'Closed: no longer taking labelers.'}</p>
      )}
      <TxSteps flow={join} testid={`tx-join-${c.id}`} />
    </section>
  )
}
