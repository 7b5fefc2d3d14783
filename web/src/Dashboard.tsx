import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { Meter } from './MyWork.tsx'
import { PromptsFile } from './PromptsFile.tsx'
import { RequesterChainPanel } from './chain/RequesterChainPanel.tsx'
import { CampaignInsights } from './DashboardExtras.tsx'

type Campaign = { id: string; name: string; status: string; policy: string; k: number; overlap: number; created_at: number; chain_campaign_id: string | null; category: string; kinds: string }
type Progress = { byKind: Record<string, { tasks: number; slots: number; labels: number }>; goldTasks: number }
type Quality = { progress: Progress; meanAgreement: number | null; labelers: Array<{ address: string; labels: number; accepted: number; agreement: number | null; goldAccuracy: number | null; qualityBps: number; spamRate: number }>; spamLabels: number; acceptedLabels: number }

export function DashboardPage() {
  const [list, setList] = useState<Campaign[]>([])
  const [sel, setSel] = useState<string | null>(null)
  const [q, setQ] = useState<Quality | null>(null)
  const [exp, setExp] = useState<{ dir: string; merkleRoot: string; labelCount: number; datasetCid: string | null } | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const [form, setForm] = useState({ name: '', prompts: '', policy: '', k: 4, overlap: 3, category: 'general', rewardPerLabel: '', targetHourly: '', writePrompts: false })
  const [fromFile, setFromFile] = useState<{ name: string; prompts: string[] } | null>(null)

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
      // Prompts go inline: from the file the browser read, else the pasted lines (the API takes no server paths).
      const prompts = fromFile?.prompts ?? form.prompts.split('\n').map((s) => s.trim()).filter(Boolean)
      const r = await api<{ campaign: Campaign }>('POST', '/api/campaigns', {
        name: form.name,
        policy: form.policy,
        k: Number(form.k),
        overlap: Number(form.overlap),
        // Issue 20: expertise category, pay terms, and prompt-writing tasks.
        category: form.category,
        ...(form.rewardPerLabel ? { rewardPerLabel: Number(form.rewardPerLabel) } : {}),
        ...(form.targetHourly ? { targetHourly: Number(form.targetHourly) } : {}),
        ...(form.writePrompts ? { kinds: prompts.length ? ['demonstration', 'ranking', 'prompt'] : ['prompt'] } : {}),
        ...(prompts.length || !form.writePrompts ? { prompts } : {}),
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
              <li
                key={c.id}
                className={sel === c.id ? 'on' : ''}
                onClick={() => setSel(c.id)}
                // keyboard: Tab to a campaign, Enter or Space selects it
                tabIndex={0}
                role="button"
                aria-pressed={sel === c.id}
                onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), setSel(c.id))}
                data-testid={`campaign-${c.id}`}
              >
                <div>
                  <b>{c.name}</b> <span className={`chip ${c.status === 'open' ? 'ok' : 'soft'}`}>{c.status}</span>
                </div>
                <div className="small muted mono">
                  {c.id} · {c.category} · {c.kinds} · K={c.k} · overlap {c.overlap} · policy {c.policy}
                </div>
              </li>
            ))}
            {!list.length ? <li className="muted">No campaigns yet.</li> : null}
          </ul>
        </section>
        <section className="card">
          <h2>New campaign</h2>
          <div className="form">
            <input placeholder="Name" aria-label="Name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
            <input placeholder="Policy checkpoint (CID)" aria-label="Policy checkpoint (CID)" value={form.policy} onChange={(e) => setForm({ ...form, policy: e.target.value })} />
            <PromptsFile onPrompts={setFromFile} />
            <textarea placeholder="…or paste prompts, one per line" aria-label="Prompts, one per line" rows={3} value={form.prompts} disabled={!!fromFile} onChange={(e) => setForm({ ...form, prompts: e.target.value })} data-testid="prompts-text" />
            <div className="row">
              <select value={form.category} onChange={(e) => setForm({ ...form, category: e.target.value })} data-testid="new-category">
                {['general', 'smart_contract_security', 'governance', 'defi', 'transactions'].map((c) => (
                  <option key={c} value={c}>
                    {c.replace(/_/g, ' ')}
                  </option>
                ))}
              </select>
              <input placeholder="USDC per label" value={form.rewardPerLabel} onChange={(e) => setForm({ ...form, rewardPerLabel: e.target.value })} style={{ width: 150 }} />
              <input placeholder="target USDC/h" value={form.targetHourly} onChange={(e) => setForm({ ...form, targetHourly: e.target.value })} style={{ width: 150 }} />
              <label>
                <input type="checkbox" checked={form.writePrompts} onChange={(e) => setForm({ ...form, writePrompts: e.target.checked })} /> prompt writing
              </label>
            </div>
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
      {/* on chain: create and fund, budget, settlements, close (web/src/chain) */}
      {sel && list.find((c) => c.id === sel) ? <RequesterChainPanel key={sel} campaign={list.find((c) => c.id === sel)!} onChanged={load} /> : null}
      {sel ? <CampaignInsights key={sel} campaign={sel} /> : null}
    </div>
  )
}
