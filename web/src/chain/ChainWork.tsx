// The on-chain half of "My work": the badge, and per joined campaign the position with its withdraw
// buttons. Renders nothing when the server has no chain deployment.
import { RefreshButton, useChainState } from './LabelerChainPage.tsx'
import { BadgeCard } from './BadgeCard.tsx'
import { PositionPanel } from './PositionPanel.tsx'
import { NetworkBanner } from './NetworkBanner.tsx'
import { useEffect, useState } from 'react'
import { chainCampaign, type ChainCampaignView } from './chainApi.ts'
import './chain.css'

export function ChainWork() {
  const { info, pos, err, refresh } = useChainState()
  const [views, setViews] = useState<Record<string, ChainCampaignView>>({})
  useEffect(() => {
    for (const p of pos?.campaigns ?? []) if (!views[p.campaignId]) chainCampaign(p.campaignId).then((v) => setViews((m) => ({ ...m, [p.campaignId]: v })))
  }, [pos])
  if (err) return <div className="error">{err}</div>
  if (!info || !pos) return null
  return (
    <div className="chainwork" data-testid="chain-work">
      <NetworkBanner info={info} onSwitched={() => refresh(true)} />
      <BadgeCard p={pos} />
      <section className="card">
        <h2>Pay and stakes on chain</h2>
        {!pos.campaigns.length ? <p className="muted">You have not joined a campaign on chain yet (see Stake &amp; earn).</p> : null}
        {pos.campaigns.map((p) =>
          views[p.campaignId] ? (
            <div key={p.campaignId} className="poswrap">
              <h3>
                Campaign #{p.campaignId} <span className={`chip ${p.open ? 'ok' : 'soft'}`}>{p.open ? 'open' : 'closed'}</span>
              </h3>
              <PositionPanel info={info} pos={p} token={views[p.campaignId].token} address={pos.address} chainNow={pos.chainNow} onChanged={() => refresh(true)} />
            </div>
          ) : null,
        )}
        <RefreshButton pos={pos} refresh={refresh} />
      </section>
    </div>
  )
}
