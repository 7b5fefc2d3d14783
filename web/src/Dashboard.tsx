import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { Meter } from './MyWork.tsx'

type Campaign = { id: string; name: string; status: string; policy: string; k: number; overlap: number; created_at: number }
type Progress = { byKind: Record<string, { tasks: number; slots: number; labels: number }>; goldTasks: number }
type Quality = { progress: Progress; meanAgreement: number | null; labelers: Array<{ address: string; labels: number; accepted: number; agreement: number | null; goldAccuracy: number | null; qualityBps: number; spamRate: number }>; spamLabels: number; acceptedLabels: number }

export function DashboardPage() {
  const [list, setList] = useState<Campaign[]>([])
  const [sel, setSel] = useState<string | null>(null)
  const [q, setQ] = useState<Quality | null>(null)
  const [exp, setExp] = useState<{ dir: string; merkleRoot: string; labelCount: number; datasetCid: string | null } | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const [form, setForm] = useState({ name: '', prompts: '', policy: '', k: 4, overlap: 3 })

  const load = () => api<{ campaigns: Campaign[] }>('GET', '/api/campaigns').then((r) => setList(r.campaigns), (e) => setErr(e.message))
  useEffect(() => {
    load()
  }, [])
  useEffect(() => {
    setQ(null)
    setExp(null)
    if (sel) api<Quality>('GET', `/api/campaigns/${sel}/quality`).then(setQ, (e) => setErr(e.message))
  }, [sel])

  const create = async () => {
    setErr(null)
    try {
      const prompts = form.prompts.split('\n').map((s) => s.trim()).filter(Boolean)
      const r = await api<{ campaign: Campaign }>('POST', '/api/campaigns', {
        name: form.name,
        policy: form.policy,
        k: Number(form.k),
        overlap: Number(form.overlap),
        prompts,
      })
      await load()
      setSel(r.campaign.id)
    } catch (e) {
      setErr((e as Error).message)
    }
  }
  const doExport = async (id: string) => {
    try {
      setExp(await api('POST', `/api/campaigns/${id}/export`, {}))
    } catch (e) {
      setErr((e as Error).message)
    }
  }
  const close = async (id: string) => {
    await api('POST', `/api/campaigns/${id}/close`, {}).catch((e) => setErr(e.message))
    load()
  }

  return (
    <div className="dash" data-testid="dashboard">
      {err ? <div className="error">{err}</div> : null}
      <div className="grid2">
        <section className="card">
          <h2>Campaigns</h2>
          <ul className="clist">
            {list.map((c) => (
              <li key={c.id} className={sel === c.id ? 'on' : ''} onClick={() => setSel(c.id)}>
                <div>
                  <b>{c.name}</b> <span className={`chip ${c.status === 'open' ? 'ok' : 'soft'}`}>{c.status}</span>
                </div>
                <div className="small muted mono">
                  {c.id} · K={c.k} · overlap {c.overlap} · policy {c.policy}
                </div>
              </li>
            ))}
            {!list.length ? <li className="muted">No campaigns yet.</li> : null}
          </ul>
        </section>
        <section className="card">
          <h2>New campaign</h2>
          <div className="form">
            <input placeholder="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            <input placeholder="Policy checkpoint (CID)" value={form.policy} onChange={(e) => setForm({ ...form, policy: e.target.value })} />
            <textarea placeholder="Prompts, one per line" rows={3} value={form.prompts} onChange={(e) => setForm({ ...form, prompts: e.target.value })} />
            <div className="row">
              <label>
                K <input type="number" min={4} max={9} value={form.k} onChange={(e) => setForm({ ...form, k: Number(e.target.value) })} />
              </label>
              <label>
                overlap <input type="number" min={3} value={form.overlap} onChange={(e) => setForm({ ...form, overlap: Number(e.target.value) })} />
              </label>
              <button className="primary" onClick={create}>
                Create
              </button>
            </div>
          </div>
        </section>
      </div>
      {sel && q ? (
        <section className="card">
          <div className="row spread">
            <h2>Progress &amp; quality</h2>
            <div className="row">
              <button onClick={() => close(sel)}>Close campaign</button>
              <button className="primary" onClick={() => doExport(sel)} data-testid="export">
                Export dataset
              </button>
            </div>
          </div>
          <div className="stats">
            {Object.entries(q.progress.byKind).map(([kind, p]) => (
              <div key={kind} className="stat">
                <div className="label">{kind}</div>
                <div className="bar-outer">
                  <span style={{ width: `${Math.min(100, (100 * p.labels) / Math.max(1, p.slots))}%` }} />
                </div>
                <div className="small muted">
                  {p.labels} / {p.slots} labels · {p.tasks} tasks
                </div>
              </div>
            ))}
            <div className="stat">
              <div className="label">Agreement</div>
              <div className="big">{q.meanAgreement === null ? '—' : `${Math.round(q.meanAgreement * 100)}%`}</div>
              <div className="small muted">pairwise, vs leave-one-out consensus</div>
            </div>
            <div className="stat">
              <div className="label">Accepted / flagged</div>
              <div className="big">
                {q.acceptedLabels} / {q.spamLabels}
              </div>
              <div className="small muted">{q.progress.goldTasks} gold tasks mixed in</div>
            </div>
          </div>
          {exp ? (
            <div className="toast ok mono small" data-testid="export-result">
              exported {exp.labelCount} labels to {exp.dir} · merkle root {exp.merkleRoot}
              {exp.datasetCid ? ` · CID ${exp.datasetCid}` : ''}
            </div>
          ) : null}
          <table>
            <thead>
              <tr>
                <th>Labeler</th>
                <th>Labels</th>
                <th>Accepted</th>
                <th>Gold</th>
                <th>Agreement</th>
                <th>Flagged</th>
                <th>Reputation</th>
              </tr>
            </thead>
            <tbody>
              {q.labelers.map((l) => (
                <tr key={l.address}>
                  <td className="mono small">{l.address}</td>
                  <td>{l.labels}</td>
                  <td>{l.accepted}</td>
                  <td>{l.goldAccuracy === null ? '—' : `${Math.round(l.goldAccuracy * 100)}%`}</td>
                  <td>{l.agreement === null ? '—' : `${Math.round(l.agreement * 100)}%`}</td>
                  <td>{Math.round(l.spamRate * 100)}%</td>
                  <td>
                    <Meter bps={l.qualityBps} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  )
}
