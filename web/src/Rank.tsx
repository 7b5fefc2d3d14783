import { useRef, useState, type KeyboardEvent } from 'react'
import type { LabelContent } from '../../src/labeling/content.ts'
import type { TaskView } from '../../src/labeling/tasks.ts'

/**
 * Rank K outputs, ties allowed, InstructGPT style: a Likert 1-7 score and metadata flags per output.
 * State: `order` = output indices top (best) to bottom; `tied[p]` = the output at position p ties
 * with the one above. Keyboard on a focused card: ↑/↓ move focus, Shift+↑/↓ (or Alt) move the
 * output, T or = toggles a tie with the output above, 1-7 sets its Likert score, Ctrl+Enter submits.
 * Mouse: drag a card onto another to put it there.
 */
export function RankTask({ task, flags, busy, onSubmit }: { task: TaskView; flags: string[]; busy: boolean; onSubmit: (b: Partial<LabelContent>) => void }) {
  const k = task.outputs!.length
  const [order, setOrder] = useState<number[]>(() => Array.from({ length: k }, (_, i) => i))
  const [tied, setTied] = useState<boolean[]>(() => new Array(k).fill(false))
  const [likert, setLikert] = useState<number[]>(() => new Array(k).fill(4))
  const [flagSet, setFlagSet] = useState<Record<string, number[]>>({})
  const [drag, setDrag] = useState<number | null>(null)
  const refs = useRef<(HTMLDivElement | null)[]>([])

  const ranks = (): number[] => {
    const r = new Array<number>(k)
    let cur = 0
    order.forEach((out, p) => {
      if (p > 0 && !tied[p]) cur++
      r[out] = cur
    })
    return r
  }
  // Focus moves synchronously (keys can arrive faster than a timer); a moved card keeps focus itself
  // because cards are keyed by output, so React moves the focused DOM node.
  const focus = (p: number) => refs.current[p]?.focus()
  const move = (from: number, to: number) => {
    if (to < 0 || to >= k || from === to) return
    const o = [...order]
    const [x] = o.splice(from, 1)
    o.splice(to, 0, x)
    setOrder(o)
  }
  const toggleTie = (p: number) => {
    if (p === 0) return
    const t = [...tied]
    t[p] = !t[p]
    setTied(t)
  }
  const setScore = (out: number, v: number) => setLikert((l) => l.map((x, i) => (i === out ? v : x)))
  const toggleFlag = (f: string, out: number) =>
    setFlagSet((s) => {
      const cur = new Set(s[f] ?? [])
      if (cur.has(out)) cur.delete(out)
      else cur.add(out)
      return { ...s, [f]: [...cur].sort((a, b) => a - b) }
    })
  const submit = () => {
    const fl: Record<string, number[]> = {}
    for (const [f, xs] of Object.entries(flagSet)) if (xs.length) fl[f] = xs
    onSubmit({ ranking: ranks(), likert, flags: fl })
  }
  const onKey = (e: KeyboardEvent, p: number) => {
    const out = order[p]
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault()
      const d = e.key === 'ArrowUp' ? -1 : 1
      if (e.shiftKey || e.altKey) move(p, p + d)
      else focus(Math.max(0, Math.min(k - 1, p + d)))
    } else if (e.key === 't' || e.key === 'T' || e.key === '=') {
      e.preventDefault()
      toggleTie(p)
    } else if (/^[1-7]$/.test(e.key)) {
      setScore(out, Number(e.key))
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault()
      submit()
    }
  }
  const r = ranks()

  return (
    <section className="card" data-testid="rank-task">
      <h2>Rank the responses</h2>
      <div className="prompt">
        <div className="label">Prompt</div>
        <div className="text">{task.prompt}</div>
      </div>
      <p className="small muted">
        Best at the top. Drag cards, or focus one and use <kbd>↑</kbd>/<kbd>↓</kbd> to move focus, <kbd>Shift</kbd>+<kbd>↑</kbd>/<kbd>↓</kbd> to move it, <kbd>T</kbd> to tie
        it with the one above, <kbd>1</kbd>–<kbd>7</kbd> for its quality, <kbd>Ctrl</kbd>+<kbd>Enter</kbd> to submit.
      </p>
      <div className="ranklist">
        {order.map((out, p) => (
          <div
            key={out}
            ref={(el) => {
              refs.current[p] = el
            }}
            className={`rankcard${tied[p] ? ' tied' : ''}${drag === p ? ' dragging' : ''}`}
            tabIndex={0}
            draggable
            onDragStart={() => setDrag(p)}
            onDragOver={(e) => e.preventDefault()}
            onDrop={() => {
              if (drag !== null) move(drag, p)
              setDrag(null)
            }}
            onKeyDown={(e) => onKey(e, p)}
            data-testid={`rank-card-${p}`}
            data-output={out}
            aria-label={`Output ${String.fromCharCode(65 + out)}, rank ${r[out] + 1}`}
          >
            <div className="rankbadge">
              <div className="num">{r[out] + 1}</div>
              <div className="small muted">{String.fromCharCode(65 + out)}</div>
              {p > 0 ? (
                <button className={`tie${tied[p] ? ' on' : ''}`} title="tie with the output above (T)" onClick={() => toggleTie(p)} tabIndex={-1}>
                  =
                </button>
              ) : null}
            </div>
            <div className="body">
              <div className="text">{task.outputs![out]}</div>
              <div className="likert" role="radiogroup" aria-label="overall quality 1-7">
                <span className="small muted">quality</span>
                {[1, 2, 3, 4, 5, 6, 7].map((v) => (
                  <button key={v} tabIndex={-1} className={likert[out] === v ? 'lk on' : 'lk'} onClick={() => setScore(out, v)} aria-pressed={likert[out] === v}>
                    {v}
                  </button>
                ))}
              </div>
              <div className="flags">
                {flags.map((f) => (
                  <button key={f} tabIndex={-1} className={(flagSet[f] ?? []).includes(out) ? 'flag on' : 'flag'} onClick={() => toggleFlag(f, out)}>
                    {f.replace(/_/g, ' ')}
                  </button>
                ))}
              </div>
            </div>
            <div className="moves">
              <button tabIndex={-1} onClick={() => move(p, p - 1)} disabled={p === 0} title="move up">
                ▲
              </button>
              <button tabIndex={-1} onClick={() => move(p, p + 1)} disabled={p === k - 1} title="move down">
                ▼
              </button>
            </div>
          </div>
        ))}
      </div>
      <div className="row end">
        <span className="small muted mono" data-testid="ranking-preview">
          ranking [{r.join(', ')}]
        </span>
        <button className="primary" disabled={busy} onClick={submit} data-testid="rank-submit">
          Sign &amp; submit
        </button>
      </div>
    </section>
  )
}
