import { useEffect, useState } from 'react'
import { api } from './api.ts'
import { Markdown } from './Markdown.tsx'

type Guidelines = { version: number; hash: string; markdown: string }

/**
 * The campaign's guidelines, shown beside every task. `version` is the version the current task
 * will be signed under (from the task view); the panel loads exactly that version.
 */
export function GuidelinesPanel({ campaign, version }: { campaign: string; version: number }) {
  const [g, setG] = useState<Guidelines | null>(null)
  const [open, setOpen] = useState(true)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    setErr(null)
    api<Guidelines>('GET', `/api/campaigns/${campaign}/guidelines?version=${version}`).then(setG, (e) => setErr(e.message))
  }, [campaign, version])
  return (
    <aside className="card guidelines" data-testid="guidelines">
      <div className="row spread">
        <h2>Guidelines</h2>
        <span className="chip soft" data-testid="guidelines-version" title={g?.hash}>
          v{version}
        </span>
      </div>
      <p className="small muted">Your label records and signs this version.</p>
      {err ? <div className="error">{err}</div> : null}
      {g && open ? <Markdown text={g.markdown} /> : null}
      <button className="ghost small" onClick={() => setOpen(!open)}>
        {open ? 'Hide' : 'Show'} guidelines
      </button>
    </aside>
  )
}
