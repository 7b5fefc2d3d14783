import { useCallback, useEffect, useState } from 'react'
import { makeLabel, signLabel } from '../../src/labeling/client.ts'
import type { LabelContent } from '../../src/labeling/content.ts'
import type { TaskView } from '../../src/labeling/tasks.ts'
import { api, ApiFailure, type Config, type Me } from './api.ts'
import type { Wallet } from './wallet.ts'
import { RankTask } from './Rank.tsx'
import { GuidelinesPanel } from './Guidelines.tsx'
import { TaskActions } from './TaskActions.tsx'
import { PromptTask } from './PromptTask.tsx'
import { QualifyPanel } from './Qualify.tsx'
import { useActivityHeartbeat } from './activity.ts'

type Campaign = { id: string; name: string; status: string; k: number; kinds: string; category: string; currency: string; reward_micros: number; target_hourly_micros: number | null }
const CATEGORY_NAMES: Record<string, string> = { smart_contract_security: 'Smart-contract security', governance: 'Governance', defi: 'DeFi', transactions: 'Transactions', general: 'General' }

export function WorkPage({ wallet, me, config }: { wallet: Wallet; me: Me; config: Config }) {
  const [campaigns, setCampaigns] = useState<Campaign[]>([])
  const [cid, setCid] = useState<string>('')
  const [task, setTask] = useState<TaskView | null>(null)
  const [msg, setMsg] = useState<{ kind: 'ok' | 'err'; text: string } | null>(null)
  const [busy, setBusy] = useState(false)
  const [empty, setEmpty] = useState(false)
  const [unqualified, setUnqualified] = useState(false)
  const [heartbeatMs, setHeartbeatMs] = useState<number | null>(null)
  useEffect(() => {
    api<{ heartbeatMs: number }>('GET', '/api/categories').then((r) => setHeartbeatMs(r.heartbeatMs), () => setHeartbeatMs(15_000))
  }, [])
  useActivityHeartbeat(heartbeatMs === null ? null : (task?.taskId ?? null), heartbeatMs ?? 15_000)
  const camp = campaigns.find((c) => c.id === cid)

  useEffect(() => {
    api<{ campaigns: Campaign[] }>('GET', '/api/campaigns').then((r) => {
      const open = r.campaigns.filter((c) => c.status === 'open')
      setCampaigns(open)
      if (open.length && !cid) setCid(open[0].id)
    })
  }, [])

  const next = useCallback(async () => {
    if (!cid) return
    setBusy(true)
    try {
      const r = await api<{ tasks: TaskView[] }>('POST', `/api/campaigns/${cid}/tasks/claim`, { count: 1 })
      setTask(r.tasks[0] ?? null)
      setEmpty(!r.tasks.length)
      setUnqualified(false)
    } catch (e) {
      // A category campaign for which this labeler has not qualified: offer its quiz instead of an error.
      if (e instanceof ApiFailure && e.code === 'EUNQUALIFIED') {
        setTask(null)
        setUnqualified(true)
      } else setMsg({ kind: 'err', text: (e as Error).message })
    } finally {
      setBusy(false)
    }
  }, [cid])

  useEffect(() => {
    setTask(null)
    setUnqualified(false)
    if (cid) next()
  }, [cid])

  const submit = async (body: Partial<LabelContent>) => {
    if (!task) return
    setBusy(true)
    setMsg(null)
    try {
      const label = makeLabel(task, me.address, body)
      const { signature } = await signLabel(wallet, config.chainId, label)
      // getRandomValues works on plain-http origins too (randomUUID needs a secure context).
      const idempotencyKey = `web-${task.taskId}-${Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')}`
      let r: { labelHash: string } | null = null
      // Retry transient failures with the same key: the server stores the label at most once.
      for (let attempt = 0; attempt < 3 && !r; attempt++) {
        try {
          r = await api('POST', '/api/labels', { taskId: task.taskId, idempotencyKey, label, signature })
        } catch (e) {
          if (attempt === 2 || ((e as { status?: number }).status ?? 500) < 500) throw e
        }
      }
      setMsg({ kind: 'ok', text: `Signed and stored · label ${r!.labelHash.slice(0, 10)}…` })
      await next()
    } catch (e) {
      setMsg({ kind: 'err', text: (e as Error).message })
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="work">
      <div className="bar">
        <label>
          Campaign{' '}
          <select value={cid} onChange={(e) => setCid(e.target.value)} data-testid="campaign">
            {campaigns.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        {camp ? (
          <span className="chip role" data-testid="campaign-category">
            {CATEGORY_NAMES[camp.category] ?? camp.category}
          </span>
        ) : null}
        {camp && camp.reward_micros > 0 ? (
          <span className="chip soft" title="pay per accepted label, and the campaign's declared target effective hourly rate">
            {camp.reward_micros / 1e6} {camp.currency}/label{camp.target_hourly_micros ? ` · target ${camp.target_hourly_micros / 1e6} ${camp.currency}/h` : ''}
          </span>
        ) : null}
        {task ? <span className="chip soft">task #{task.taskId} · {task.kind}</span> : null}
        {task ? <span className="small muted">lease until {new Date(task.leaseExpiresAt).toLocaleTimeString()}</span> : null}
      </div>
      {msg ? (
        <div className={msg.kind === 'ok' ? 'toast ok' : 'error'} role="status" data-testid="status">
          {msg.text}
        </div>
      ) : null}
      {!campaigns.length ? <p className="muted card">No open campaigns yet.</p> : null}
      {empty && !task ? (
        <div className="card muted" data-testid="no-tasks">
          Nothing left for you in this campaign right now. <button onClick={next}>Check again</button>
        </div>
      ) : null}
      {unqualified && camp ? <QualifyPanel key={camp.id} category={camp.category} name={CATEGORY_NAMES[camp.category] ?? camp.category} onQualified={next} /> : null}
      {task ? (
        <div className="worklayout">
          <div>
            {task.kind === 'demonstration' ? <DemoTask key={task.taskId} task={task} busy={busy} onSubmit={(response) => submit({ response })} /> : null}
            {task.kind === 'ranking' ? <RankTask key={task.taskId} task={task} flags={config.flags} busy={busy} onSubmit={submit} /> : null}
            {task.kind === 'review' ? <ReviewTask key={task.taskId} task={task} busy={busy} onSubmit={(verdict, note) => submit({ target: task.target as `0x${string}`, verdict, ...(note ? { note } : {}) })} /> : null}
            {task.kind === 'prompt' ? <PromptTask key={task.taskId} task={task} busy={busy} onSubmit={(prompt) => submit({ prompt })} /> : null}
            <TaskActions
              key={'a' + task.taskId}
              taskId={task.taskId}
              onDone={(text) => {
                setMsg({ kind: 'ok', text })
                next()
              }}
              onError={(text) => setMsg({ kind: 'err', text })}
            />
          </div>
          <GuidelinesPanel campaign={task.campaign} version={task.guidelines.version} />
        </div>
      ) : null}
    </div>
  )
}

function Prompt({ text }: { text: string }) {
  return (
    <div className="prompt">
      <div className="label">Prompt</div>
      <div className="text">{text}</div>
    </div>
  )
}

function DemoTask({ task, busy, onSubmit }: { task: TaskView; busy: boolean; onSubmit: (r: string) => void }) {
  const [text, setText] = useState('')
  return (
    <section className="card" data-testid="demo-task">
      <h2>Write the ideal response</h2>
      <Prompt text={task.prompt} />
      <textarea
        value={text}
        onChange={(e) => setText(e.target.value)}
        placeholder="Write what an excellent assistant would answer: correct, specific, honest about uncertainty."
        rows={9}
        data-testid="demo-text"
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && text.trim()) onSubmit(text)
        }}
      />
      <div className="row end">
        <span className="small muted">{text.length} characters · Ctrl+Enter to submit</span>
        <button className="primary" disabled={busy || !text.trim()} onClick={() => onSubmit(text)} data-testid="demo-submit">
          Sign &amp; submit
        </button>
      </div>
    </section>
  )
}

function ReviewTask({ task, busy, onSubmit }: { task: TaskView; busy: boolean; onSubmit: (v: 'approve' | 'reject', note: string) => void }) {
  const [note, setNote] = useState('')
  return (
    <section className="card" data-testid="review-task">
      <h2>{task.reviewOf === 'prompt' ? "Review another labeler's prompt" : "Review another labeler's demonstration"}</h2>
      <Prompt text={task.prompt} />
      <div className="output">
        <div className="label">{task.reviewOf === 'prompt' ? 'The prompt they wrote (realistic, specific, in the asked style?)' : 'Their response'}</div>
        <div className="text">{task.response}</div>
      </div>
      <textarea value={note} onChange={(e) => setNote(e.target.value)} placeholder="Optional note (why)" rows={3} />
      <div className="row end">
        <button className="danger" disabled={busy} onClick={() => onSubmit('reject', note)}>
          Reject
        </button>
        <button className="primary" disabled={busy} onClick={() => onSubmit('approve', note)}>
          Approve
        </button>
      </div>
    </section>
  )
}
