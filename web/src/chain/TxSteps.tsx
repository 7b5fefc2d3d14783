// A multi-step on-chain action (e.g. approve, then join) and what each step is doing. One flow runs at
// a time: a second click while it runs does nothing, so nothing is ever submitted twice.
import { useCallback, useRef, useState } from 'react'
import { sendCall, TxError, describeError, type TxCall, type TxState } from './tx.ts'
import { ensureChain, hasCode, type WalletClients } from './eth.ts'
import { short } from './format.ts'

export type TxStep = {
  label: string
  /** The call to send, or null to skip the step (e.g. the allowance already covers the amount). */
  make: (w: WalletClients) => Promise<TxCall | null>
}
export type StepResult = { label: string; hash: `0x${string}`; logs: readonly { address: string; topics: readonly string[]; data: string }[]; result: unknown } | null

type Shown = { label: string; state: TxState }

export function useTxFlow() {
  const running = useRef(false)
  const [steps, setSteps] = useState<Shown[]>([])
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [done, setDone] = useState(false)

  /** Run the steps in order; `after` runs once they are all confirmed. Resolves true on success. */
  const run = useCallback(async (connect: () => Promise<WalletClients>, plan: TxStep[], after?: (results: StepResult[]) => Promise<void>): Promise<boolean> => {
    if (running.current) return false
    running.current = true
    setBusy(true)
    setError(null)
    setDone(false)
    setSteps(plan.map((s) => ({ label: s.label, state: { status: 'waiting' } })))
    const update = (i: number, state: TxState) => setSteps((xs) => xs.map((x, j) => (j === i ? { ...x, state } : x)))
    try {
      const w = await connect()
      // Before any step reads state (e.g. an allowance) the wallet must be on the deployment's chain.
      await ensureChain(w).catch((err) => {
        throw new Error(hasCode(err, 4001) ? 'you declined the network switch in your wallet' : `wrong network: ${describeError(err).error}`)
      })
      const results: StepResult[] = []
      for (const [i, s] of plan.entries()) {
        const call = await s.make(w)
        if (!call) {
          update(i, { status: 'skipped' })
          results.push(null)
          continue
        }
        const r = await sendCall(w, call, (st) => update(i, st))
        results.push({ label: s.label, hash: r.hash, logs: r.receipt.logs, result: r.result })
      }
      await after?.(results)
      setDone(true)
      return true
    } catch (e) {
      // A TxError is already shown on its step; anything else (no wallet, a server error) goes here.
      if (!(e instanceof TxError)) setError(describeError(e).error)
      return false
    } finally {
      running.current = false
      setBusy(false)
    }
  }, [])
  return { steps, busy, error, done, run }
}

const STATUS_TEXT: Record<TxState['status'], string> = {
  waiting: 'waiting',
  checking: 'checking network and simulating…',
  wallet: 'confirm in your wallet…',
  pending: 'pending…',
  confirmed: 'confirmed',
  reverted: 'reverted',
  failed: 'failed',
  skipped: 'not needed',
}

export function TxSteps({ flow, testid }: { flow: ReturnType<typeof useTxFlow>; testid: string }) {
  if (!flow.steps.length && !flow.error) return null
  return (
    <div className="txsteps" data-testid={testid} role="status" aria-live="polite">
      <ol>
        {flow.steps.map((s, i) => (
          <li key={i} className={`tx ${s.state.status}`} data-testid={`${testid}-step-${i}`} data-status={s.state.status}>
            <span className="txlabel">{s.label}</span>
            <span className={`chip tx-${s.state.status}`}>{STATUS_TEXT[s.state.status]}</span>
            {s.state.hash ? (
              <span className="mono small" title={s.state.hash} data-testid={`${testid}-hash-${i}`}>
                tx {short(s.state.hash)}
              </span>
            ) : null}
            {s.state.error ? (
              <div className="txerror" role="alert" data-testid={`${testid}-error`}>
                {s.state.error}
              </div>
            ) : null}
          </li>
        ))}
      </ol>
      {flow.error ? (
        <div className="txerror" role="alert" data-testid={`${testid}-error`}>
          {flow.error}
        </div>
      ) : null}
    </div>
  )
}
