// A campaign's on-chain terms, read from the escrow: what a labeler agrees to by staking.
import type { ChainCampaignView } from './chainApi.ts'
import { amount, duration, pctBps, when } from './format.ts'

export function CampaignTerms({ c }: { c: ChainCampaignView }) {
  const t = c.terms
  const rows: Array<[string, string, string]> = [
    ['Reward per label', amount(String(t.rewardPerLabel), c.token), 'at quality 100%; pay = accepted × reward × quality'],
    ['Required stake', amount(String(t.requiredStake), c.token), 'locked while the campaign is open; slashed on proven fraud'],
    ['Quality threshold', pctBps(t.qualityThresholdBps), 'vesting earns its bonus only at or above it (lost at a later settlement below it)'],
    ['Paid at once', pctBps(t.immediateBps), 'the rest vests'],
    ['Vesting bonus', pctBps(t.bonusBps), 'bonus on vesting held its full period at or above the threshold (set aside from the budget)'],
    ['Vesting period', duration(t.vestingPeriod), 'each deposit stays locked this long'],
    ['Fraud limit', pctBps(t.fraudGoldFailBps), 'gold-task failure rate above it is slashed'],
  ]
  rows.push(['Deadline', when(t.deadline), 'no joining after it; then anyone may close'])
  rows.push(['Settlement window', duration(t.settlementWindow), 'after close, work is still settled; then stakes unlock'])
  return (
    <dl className="kv" data-testid={`terms-${c.id}`}>
      {rows.map(([k, v, hint]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>
            <b>{v}</b> <span className="small muted">{hint}</span>
          </dd>
        </div>
      ))}
    </dl>
  )
}
