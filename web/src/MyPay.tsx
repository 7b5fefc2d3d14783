import { useEffect, useState } from 'react'
import { api } from './api.ts'

type PayRow = { campaign: string; name: string; currency: string; rewardPerLabel: number; targetHourly: number | null; activeMs: number; basis: 'export' | 'provisional' | 'live'; accepted: number; earned: number; perHour: number | null; meetsTarget: boolean | null }

export const fmtDuration = (ms: number) => {
  const s = Math.round(ms / 1000)
  return s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}
export const fmtMoney = (x: number | null, cur: string) => (x === null ? '—' : `${x.toFixed(2)} ${cur}`)

/**
 * What my time is worth, per campaign: active time on task (idle gaps excluded), accepted labels,
 * earned = accepted x pay per label, and the effective hourly rate against the campaign's target.
 */
export function MyPay() {
  const [rows, setRows] = useState<PayRow[] | null>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    api<{ campaigns: PayRow[] }>('GET', '/api/me/pay').then((r) => setRows(r.campaigns), (e) => setErr(e.message))
  }, [])
  if (err) return <div className="error">{err}</div>
  if (!rows) return null
  return (
    <section className="card" data-testid="my-pay">
      <h2>Effective pay</h2>
      <p className="small muted">Time on task runs from when a task is first shown to when you submit, skip or report it; gaps over 60 s without any keyboard, mouse or scroll activity are idle and not counted. Before a campaign is exported the rate counts all your submitted labels (provisional, an upper bound); after an export, the labels it accepted.</p>
      <table>
        <thead>
          <tr>
            <th>Campaign</th>
            <th>Active time</th>
            <th>Labels paid</th>
            <th>Earned</th>
            <th>Per hour</th>
            <th>Target</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.campaign}>
              <td>{r.name}</td>
              <td>{fmtDuration(r.activeMs)}</td>
              <td>
                {r.accepted} <span className="small muted">{r.basis === 'export' ? 'accepted at export' : 'submitted, provisional'}</span>
              </td>
              <td>{fmtMoney(r.earned, r.currency)}</td>
              <td data-testid="my-rate">
                <b>{fmtMoney(r.perHour, r.currency)}</b>
              </td>
              <td>{r.targetHourly === null ? '—' : <span className={r.meetsTarget ? 'chip ok' : 'chip warn'}>{r.meetsTarget ? 'met' : 'below'} · {r.targetHourly} {r.currency}/h</span>}</td>
            </tr>
          ))}
          {!rows.length ? (
            <tr>
              <td colSpan={6} className="muted">
                No finished tasks yet.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  )
}

/** Opt in (or out) to showing a display name on campaign leaderboards; otherwise a shortened address is shown. */
export function ProfileForm() {
  const [name, setName] = useState('')
  const [show, setShow] = useState(false)
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  useEffect(() => {
    api<{ displayName: string | null; showOnLeaderboard: boolean }>('GET', '/api/me/profile').then((p) => {
      setName(p.displayName ?? '')
      setShow(p.showOnLeaderboard)
    })
  }, [])
  const save = async () => {
    try {
      await api('POST', '/api/me/profile', { displayName: name.trim() || null, showOnLeaderboard: show })
      setMsg({ ok: true, text: 'Saved.' })
    } catch (e) {
      setMsg({ ok: false, text: (e as Error).message })
    }
  }
  return (
    <section className="card" data-testid="profile">
      <h2>Leaderboard name</h2>
      <div className="row">
        <input placeholder="Display name (2-32 characters)" value={name} onChange={(e) => setName(e.target.value)} maxLength={32} data-testid="profile-name" />
        <label>
          <input type="checkbox" checked={show} onChange={(e) => setShow(e.target.checked)} data-testid="profile-show" /> show it on leaderboards
        </label>
        <button onClick={save} data-testid="profile-save">
          Save
        </button>
        {msg ? <span className={msg.ok ? 'small' : 'small error'}>{msg.text}</span> : null}
      </div>
      <p className="small muted">Without opting in you appear as a shortened address.</p>
    </section>
  )
}
