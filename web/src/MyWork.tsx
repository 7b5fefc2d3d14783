import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { ChainWork } from './chain/ChainWork.tsx'
import { CategoriesHeld } from './Qualify.tsx'
import { MyPay, ProfileForm } from './MyPay.tsx'

type Row = {
  campaign: string
  name: string
  labels: number
  accepted: number
  agreement: number | null
  goldAccuracy: number | null
  goldTotal: number
  reviewApproval: number | null
  spamRate: number
  qualityBps: number
}
type Stats = { address: string; campaigns: Row[]; earnings: string | null; badges: string[] }

const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 100)}%`)

export function MyWorkPage() {
  const [s, setS] = useState<Stats | null>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    api<Stats>('GET', '/api/me/stats').then(setS, (e) => setErr(e.message))
  }, [])
  if (err) return <div className="error">{err}</div>
  if (!s) return <p className="muted">Loading…</p>
  const total = s.campaigns.reduce((a, c) => a + c.labels, 0)
  const best = s.campaigns.length ? Math.max(...s.campaigns.map((c) => c.qualityBps)) : 5000
  return (
    <div className="mine" data-testid="my-work">
      <div className="stats">
        <div className="stat card">
          <div className="label">Labels signed</div>
          <div className="big">{total}</div>
        </div>
        <div className="stat card">
          <div className="label">Reputation</div>
          <div className="big">{(best / 100).toFixed(1)}%</div>
          <div className="small muted">{best} bps · gold, agreement, reviews</div>
        </div>
        <div className="stat card">
          <div className="label">Earnings</div>
          <div className="big">{s.earnings ?? '—'}</div>
          <div className="small muted">{s.earnings ? 'settled on chain' : 'paid when the campaign settles on chain'}</div>
        </div>
        <div className="stat card">
          <div className="label">Badges</div>
          <div className="badges">{s.badges.length ? s.badges.map((b) => <span key={b} className="chip role">{b}</span>) : <span className="muted">none yet</span>}</div>
        </div>
        <div className="stat card">
          <div className="label">Categories</div>
          <CategoriesHeld />
        </div>
      </div>
      <MyPay />
      <table className="card">
        <thead>
          <tr>
            <th>Campaign</th>
            <th>Labels</th>
            <th>Accepted</th>
            <th>Gold accuracy</th>
            <th>Agreement</th>
            <th>Reviews</th>
            <th>Flagged</th>
            <th>Reputation</th>
          </tr>
        </thead>
        <tbody>
          {s.campaigns.map((c) => (
            <tr key={c.campaign}>
              <td>{c.name}</td>
              <td>{c.labels}</td>
              <td>{c.accepted}</td>
              <td>
                {pct(c.goldAccuracy)} <span className="small muted">({c.goldTotal})</span>
              </td>
              <td>{pct(c.agreement)}</td>
              <td>{pct(c.reviewApproval)}</td>
              <td>{pct(c.spamRate)}</td>
              <td>
                <Meter bps={c.qualityBps} />
              </td>
            </tr>
          ))}
          {!s.campaigns.length ? (
            <tr>
              <td colSpan={8} className="muted">
                No labels yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
      {/* on chain: badge, stake, claimable, vesting, withdraw (web/src/chain) */}
      <ChainWork />
      <ProfileForm />
    </div>
  )
}

export function Meter({ bps }: { bps: number }) {
  return (
    <span className="meter" title={`${bps} bps`}>
      <span style={{ width: `${bps / 100}%` }} />
      <em>{bps}</em>
    </span>
  )
}
