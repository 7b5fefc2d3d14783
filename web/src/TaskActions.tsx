import { useState } from 'react'
import { api } from './api.ts'

const REASONS: Array<[string, string]> = [
  ['broken_prompt', 'Broken prompt'],
  ['harmful_content', 'Harmful content'],
  ['outputs_identical', 'Outputs identical'],
  ['other', 'Other (say what)'],
]

/**
 * Skip (not competent / not for me) or report (broken, harmful, identical outputs) the current
 * task. Either gives the task back; the server limits skips + reports per hour and says so.
 */
export function TaskActions({ taskId, onDone, onError }: { taskId: number; onDone: (msg: string) => void; onError: (msg: string) => void }) {
  const [reporting, setReporting] = useState(false)
  const [reason, setReason] = useState('broken_prompt')
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const run = async (path: 'skip' | 'report', body: object) => {
    setBusy(true)
    try {
      const r = await api<{ skipsLeft: number }>('POST', `/api/tasks/${taskId}/${path}`, body)
      onDone(`${path === 'skip' ? 'Skipped' : 'Reported'} task #${taskId} · ${r.skipsLeft} skips/reports left this hour`)
    } catch (e) {
      onError((e as Error).message)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div className="card taskactions" data-testid="task-actions">
      {!reporting ? (
        <div className="row">
          <button disabled={busy} onClick={() => run('skip', {})} data-testid="skip" title="Not for you (e.g. outside your expertise): the task goes back to the pool; never lowers your quality">
            Skip task
          </button>
          <button disabled={busy} className="danger" onClick={() => setReporting(true)} data-testid="report-open">
            Report a problem…
          </button>
          <span className="small muted">Skipping never lowers your quality score; skips and reports are limited per hour.</span>
        </div>
      ) : (
        <div className="form" data-testid="report-form">
          <div className="row">
            <label>
              Reason{' '}
              <select value={reason} onChange={(e) => setReason(e.target.value)} data-testid="report-reason">
                {REASONS.map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            </label>
            <input style={{ flex: 1 }} placeholder="Note for the requester (optional; required for Other)" value={note} onChange={(e) => setNote(e.target.value)} data-testid="report-note" maxLength={1000} />
          </div>
          <div className="row end">
            <button className="ghost" onClick={() => setReporting(false)}>
              Cancel
            </button>
            <button className="danger" disabled={busy} onClick={() => run('report', { reason, ...(note.trim() ? { note: note.trim() } : {}) })} data-testid="report-send">
              Send report
            </button>
          </div>
        </div>
      )}
    </div>
  )
}
