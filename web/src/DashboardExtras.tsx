import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { fmtDuration, fmtMoney } from './MyPay.tsx'

type Reports = { total: number; byReason: Record<string, number>; tasks: Array<{ taskId: number; kind: string; prompt: string; reasons: Record<string, number>; notes: string[]; count: number }> }
type Pay = {
  currency: string
  rewardPerLabel: number
  targetHourly: number | null
  rows: Array<{ address: string; activeMs: number; accepted: number; perHour: number | null; meetsTarget: boolean | null }>
  distribution: { labelers: number; min: number | null; p25: number | null; median: number | null; p75: number | null; max: number | null; atOrAboveTarget: number | null; targetMet: boolean | null }
}

/** The requester's view of one campaign beyond quality: reports, pay distribution, guidelines. */
export function CampaignInsights({ campaign }: { campaign: string }) {
  return (
    <>
      <PayPanel campaign={campaign} />
      <ReportsPanel campaign={campaign} />
      <GuidelinesEditor campaign={campaign} />
    </>
  )
}

function ReportsPanel({ campaign }: { campaign: string }) {
  const [r, setR] = useState<Reports | null>(null)
  useEffect(() => {
    api<Reports>('GET', `/api/campaigns/${campaign}/reports`).then(setR, () => setR(null))
  }, [campaign])
  if (!r) return null
  return (
    <section className="card" data-testid="reports">
      <h2>Reports from labelers ({r.total})</h2>
      {!r.total ? <p className="muted">No reports.</p> : null}
      <table>
        <tbody>
          {r.tasks.map((t) => (
            <tr key={t.taskId}>
              <td className="mono small">#{t.taskId} · {t.kind}</td>
              <td>{t.prompt.length > 90 ? t.prompt.slice(0, 90) + '…' : t.prompt}</td>
              <td>
                {Object.entries(t.reasons).map(([k, n]) => (
                  <span key={k} className="chip warn">
                    {k.replace(/_/g, ' ')} ×{n}
                  </span>
                ))}
              </td>
              <td className="small muted">{t.notes.join(' · ')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

function PayPanel({ campaign }: { campaign: string }) {
  const [p, setP] = useState<Pay | null>(null)
  useEffect(() => {
    api<Pay>('GET', `/api/campaigns/${campaign}/pay`).then(setP, () => setP(null))
  }, [campaign])
  if (!p) return null
  const d = p.distribution
  const max = Math.max(1e-9, ...p.rows.map((r) => r.perHour ?? 0), p.targetHourly ?? 0)
  return (
    <section className="card" data-testid="pay">
      <div className="row spread">
        <h2>Effective pay per hour</h2>
        {p.targetHourly !== null && d.targetMet !== null ? (
          <span className={d.targetMet ? 'chip ok' : 'chip warn'} data-testid="target-status">
            target {p.targetHourly} {p.currency}/h {d.targetMet ? 'met' : 'NOT met'} (median {fmtMoney(d.median, p.currency)}/h; {d.atOrAboveTarget}/{d.labelers} labelers at or above)
          </span>
        ) : (
          <span className="chip soft">no target declared</span>
        )}
      </div>
      <p className="small muted">
        {p.rewardPerLabel} {p.currency} per accepted label ÷ active time on task (idle gaps over 60 s excluded). Quartiles: {fmtMoney(d.p25, p.currency)} · {fmtMoney(d.median, p.currency)} · {fmtMoney(d.p75, p.currency)}
      </p>
      <div className="paybars">
        {p.rows.map((r) => (
          <div key={r.address} className="paybar">
            <span className="mono small">{r.address.slice(0, 6)}…{r.address.slice(-4)}</span>
            <div className="bar-outer">
              <span style={{ width: `${(100 * (r.perHour ?? 0)) / max}%`, background: r.meetsTarget === false ? '#e0a040' : undefined }} />
              {p.targetHourly !== null ? <i className="target" style={{ left: `${(100 * p.targetHourly) / max}%` }} /> : null}
            </div>
            <span className="small">
              {fmtMoney(r.perHour, p.currency)}/h · {r.accepted} accepted · {fmtDuration(r.activeMs)}
            </span>
          </div>
        ))}
        {!p.rows.length ? <p className="muted">No finished tasks yet.</p> : null}
      </div>
    </section>
  )
}

function GuidelinesEditor({ campaign }: { campaign: string }) {
  const [md, setMd] = useState('')
  const [version, setVersion] = useState<number | null>(null)
  const [msg, setMsg] = useState<string | null>(null)
  useEffect(() => {
    api<{ version: number; markdown: string }>('GET', `/api/campaigns/${campaign}/guidelines`).then((g) => {
      setMd(g.markdown)
      setVersion(g.version)
    })
  }, [campaign])
  const publish = async () => {
    try {
      const g = await api<{ version: number }>('POST', `/api/campaigns/${campaign}/guidelines`, { markdown: md })
      setVersion(g.version)
      setMsg(`Published version ${g.version}. New labels name it; labels in progress may keep the version they started under.`)
    } catch (e) {
      setMsg((e as Error).message)
    }
  }
  return (
    <section className="card" data-testid="guidelines-editor">
      <div className="row spread">
        <h2>Guidelines (markdown)</h2>
        <span className="chip soft">current v{version ?? '…'}</span>
      </div>
      <textarea rows={8} value={md} onChange={(e) => setMd(e.target.value)} className="mono small" />
      <div className="row end">
        {msg ? <span className="small muted">{msg}</span> : null}
        <button onClick={publish}>Publish new version</button>
      </div>
    </section>
  )
}
