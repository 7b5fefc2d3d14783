// The requester's on-chain side of a campaign, in the dashboard. Before it is on chain: its terms and
// "Create on chain and fund" (approve the funding, create the escrow campaign with it, link it to this
// service campaign). After: budget, committed and remaining pay, settlements with their Merkle roots,
// dataset CIDs and transaction hashes, "Add funds" and "Close".
import { useCallback, useEffect, useState, type ChangeEvent } from 'react'
import { decodeEventLog, type Abi, type Hex } from 'viem'
import { labelingEscrowAbi } from '../../../src/chain/generated/LabelingEscrow.ts'
import { api } from '../api.ts'
import { chainCampaign, chainInfo, linkCampaign, type ChainCampaignView, type ChainInfo, type ServiceCampaign } from './chainApi.ts'
import { CampaignTerms } from './CampaignTerms.tsx'
import { NetworkBanner } from './NetworkBanner.tsx'
import { TxSteps, useTxFlow, type StepResult } from './TxSteps.tsx'
import { approveIfNeeded, balanceOf, escrowCall, mintTestTokens } from './calls.ts'
import { walletClients } from './eth.ts'
import { amount, parseAmount, parseDays, parsePctBps, short } from './format.ts'
import './chain.css'

export function RequesterChainPanel({ campaign, onChanged }: { campaign: ServiceCampaign; onChanged: () => void }) {
  const [info, setInfo] = useState<ChainInfo | null | undefined>(undefined)
  const [me, setMe] = useState<string | null>(null)
  const [err, setErr] = useState<string | null>(null)
  useEffect(() => {
    chainInfo().then(setInfo, (e) => setErr(e.message))
    api<{ address: string }>('GET', '/api/me').then((m) => setMe(m.address), (e) => setErr(e.message))
  }, [])
  if (err) return <div className="error">{err}</div>
  if (info === null) return null // no deployment: the dashboard works without the chain
  if (!info || !me) return null
  return (
    <section className="card" data-testid="requester-chain" aria-label="On chain">
      <h2>On chain</h2>
      <NetworkBanner info={info} />
      {campaign.chain_campaign_id ? (
        <FundedCampaign info={info} me={me} service={campaign} onChanged={onChanged} />
      ) : (
        <CreateOnChain info={info} me={me} service={campaign} onChanged={onChanged} />
      )}
    </section>
  )
}

type Form = { reward: string; stake: string; threshold: string; immediate: string; bonus: string; fraud: string; vestingDays: string; deadlineDays: string; windowDays: string; funding: string }

function CreateOnChain({ info, me, service, onChanged }: { info: ChainInfo; me: string; service: ServiceCampaign; onChanged: () => void }) {
  const flow = useTxFlow()
  const faucet = useTxFlow()
  const [form, setForm] = useState<Form>({ reward: '1', stake: '10', threshold: '80', immediate: '50', bonus: '10', fraud: '30', vestingDays: '7', deadlineDays: '30', windowDays: '1', funding: '100' })
  const [formErr, setFormErr] = useState<string | null>(null)
  // An on-chain campaign created and funded here but not linked yet (the link request failed):
  // offer to link it rather than letting a second click create and fund another one.
  const [unlinked, setUnlinked] = useState<string | null>(null)
  const [linkErr, setLinkErr] = useState<string | null>(null)
  const token = info.token
  if (!token) return <p className="muted">This deployment names no payment token; create the campaign with the CLI (`instruct3 campaign create --token ADDR`).</p>
  const set = (k: keyof Form) => (e: ChangeEvent<HTMLInputElement>) => {
    setForm({ ...form, [k]: e.target.value })
    setFormErr(null) // the message was about the previous value
  }
  const create = () => {
    let params, funding: bigint, deadlineIn: bigint
    try {
      params = {
        rewardPerLabel: parseAmount(form.reward, token.decimals, 'Reward per label'),
        requiredStake: parseAmount(form.stake, token.decimals, 'Required stake', true),
        qualityThresholdBps: parsePctBps(form.threshold, 'Quality threshold'),
        immediateBps: parsePctBps(form.immediate, 'Paid at once'),
        bonusBps: parsePctBps(form.bonus, 'Vesting bonus'),
        fraudGoldFailBps: parsePctBps(form.fraud, 'Fraud limit'),
        vestingPeriod: parseDays(form.vestingDays, 'Vesting period'),
        settlementWindow: parseDays(form.windowDays, 'Settlement window'),
      }
      deadlineIn = parseDays(form.deadlineDays, 'Deadline')
      if (deadlineIn === 0n) throw new Error('Deadline: must be at least part of a day from now')
      if (params.settlementWindow < 86400n || params.settlementWindow > 30n * 86400n) throw new Error('Settlement window: 1 to 30 days')
      funding = parseAmount(form.funding, token.decimals, 'Funding')
      setFormErr(null)
    } catch (e) {
      setFormErr((e as Error).message)
      return
    }
    flow.run(
      () => walletClients(info, me),
      [
        { label: `Approve ${amount(funding, token)} for the escrow`, make: approveIfNeeded(info, token.address, funding) },
        {
          label: `Create the campaign and fund it with ${amount(funding, token)}`,
          make: async (w) => {
            // The deadline counts from the chain's clock (the latest block), which the contract checks it against.
            const now = (await w.publicClient.getBlock()).timestamp
            return escrowCall(info, 'createCampaign', [token.address, info.oracle, { ...params, deadline: now + deadlineIn }, funding])
          },
        },
      ],
      async (results: StepResult[]) => {
        const id = createdId(results[1]).toString()
        setUnlinked(id)
        // Link the service campaign to it: the server checks on chain that you created it and its oracle is the service's.
        await linkCampaign(service.id, id)
        setUnlinked(null)
        onChanged()
      },
    )
  }
  const retryLink = async () => {
    setLinkErr(null)
    try {
      await linkCampaign(service.id, unlinked!)
      setUnlinked(null)
      onChanged()
    } catch (e) {
      setLinkErr((e as Error).message)
    }
  }
  const mint = () => faucet.run(() => walletClients(info, me), [{ label: `Mint 1000 ${token.symbol} (local test token)`, make: async () => mintTestTokens(token.address, me as Hex, 1000n * 10n ** BigInt(token.decimals)) }])
  const field = (k: keyof Form, label: string, unit: string) => (
    <label className="field">
      <span>{label}</span>
      <span className="with-unit">
        <input inputMode="decimal" value={form[k]} onChange={set(k)} data-testid={`chain-${k}`} />
        <span className="small muted">{unit}</span>
      </span>
    </label>
  )
  return (
    <div data-testid="create-on-chain">
      <p className="small muted">Not on chain yet. Labelers are paid from an escrow you fund; the service ({short(info.oracle)}) settles their measured quality.</p>
      <div className="fields">
        {field('reward', 'Reward per label', token.symbol)}
        {field('stake', 'Required stake', token.symbol)}
        {field('threshold', 'Quality threshold', '%')}
        {field('immediate', 'Paid at once', '%')}
        {field('bonus', 'Vesting bonus', '%')}
        {field('fraud', 'Fraud limit (gold failures)', '%')}
        {field('vestingDays', 'Vesting period', 'days')}
        {field('deadlineDays', 'Deadline, from now', 'days')}
        {field('windowDays', 'Settlement window', 'days')}
        {field('funding', 'Funding', token.symbol)}
      </div>
      {formErr ? (
        <div className="error" role="alert" data-testid="chain-form-error">
          {formErr}
        </div>
      ) : null}
      <div className="row">
        {unlinked && !flow.busy ? (
          <>
            <span className="small">On-chain campaign #{unlinked} was created and funded, but linking it here failed.</span>
            <button className="primary" onClick={retryLink} data-testid="retry-link">
              Link campaign #{unlinked}
            </button>
            {linkErr ? <span className="txerror small">{linkErr}</span> : null}
          </>
        ) : (
          <button className="primary" onClick={create} disabled={flow.busy || flow.done} data-testid="create-on-chain-btn">
            {flow.busy ? 'Working…' : 'Create on chain and fund'}
          </button>
        )}
        {info.chainId === 31337 ? (
          <button onClick={mint} disabled={faucet.busy} data-testid="mint-test-tokens">
            Mint test tokens
          </button>
        ) : null}
      </div>
      <TxSteps flow={flow} testid="tx-create" />
      <TxSteps flow={faucet} testid="tx-mint" />
    </div>
  )
}

/** The campaign id from the CampaignCreated event of the create step's receipt. */
function createdId(r: StepResult): bigint {
  for (const log of r?.logs ?? []) {
    try {
      const ev = decodeEventLog({ abi: labelingEscrowAbi as Abi, data: log.data as Hex, topics: log.topics as [Hex, ...Hex[]] })
      if (ev.eventName === 'CampaignCreated') return (ev.args as unknown as { campaignId: bigint }).campaignId
    } catch {}
  }
  throw new Error('the create transaction emitted no CampaignCreated event')
}

function FundedCampaign({ info, me, service, onChanged }: { info: ChainInfo; me: string; service: ServiceCampaign; onChanged: () => void }) {
  const [c, setC] = useState<ChainCampaignView | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const [topUp, setTopUp] = useState('50')
  const [topErr, setTopErr] = useState<string | null>(null)
  const fund = useTxFlow()
  const close = useTxFlow()
  const refund = useTxFlow()
  const load = useCallback(() => chainCampaign(service.chain_campaign_id!).then(setC, (e) => setErr(e.message)), [service.chain_campaign_id])
  useEffect(() => {
    load()
  }, [load])
  if (err) return <div className="error">{err}</div>
  if (!c) return <p className="muted">Loading on-chain campaign #{service.chain_campaign_id}…</p>
  const a = c.accounting
  const id = BigInt(c.id)
  const addFunds = () => {
    let v: bigint
    try {
      v = parseAmount(topUp, c.token.decimals, 'Add funds')
      setTopErr(null)
    } catch (e) {
      setTopErr((e as Error).message)
      return
    }
    fund.run(
      () => walletClients(info, me),
      [
        { label: `Approve ${amount(v, c.token)} for the escrow`, make: approveIfNeeded(info, c.token.address, v) },
        {
          label: `Fund campaign #${c.id} with ${amount(v, c.token)}`,
          make: async (w) => {
            // A clear message before the wallet prompt, rather than the token's revert after it.
            const bal = await balanceOf(w, c.token.address)
            if (bal < v) throw new Error(`Add funds: the wallet holds ${amount(bal, c.token)}, less than ${amount(v, c.token)}`)
            return escrowCall(info, 'fund', [id, v])
          },
        },
      ],
      async () => void load(),
    )
  }
  const doClose = () =>
    close.run(() => walletClients(info, me), [{ label: `Close campaign #${c.id} (work is still settled in the settlement window)`, make: async () => escrowCall(info, 'close', [id]) }], async () => {
      // Labeling stops too once the escrow is closed.
      await api('POST', `/api/campaigns/${encodeURIComponent(service.id)}/close`, {}).catch(() => {})
      await load()
      onChanged()
    })
  const doRefund = () => refund.run(() => walletClients(info, me), [{ label: `Refund ${amount(a.budget, c.token)} unspent budget`, make: async () => escrowCall(info, 'refund', [id]) }], async () => void load())
  const windowOver = !c.open && c.chainNow >= c.settlementEndsAt
  const stat = (label: string, v: string, hint: string, testid: string) => (
    <div className="stat">
      <div className="label">{label}</div>
      <div className="big" data-testid={testid}>
        {amount(v, c.token)}
      </div>
      <div className="small muted">{hint}</div>
    </div>
  )
  return (
    <div data-testid="funded-campaign">
      <div className="row spread gap-below">
        <div>
          On-chain campaign <b>#{c.id}</b> <span className={`chip ${c.open ? 'ok' : 'soft'}`}>{c.open ? 'open' : 'closed'}</span>
        </div>
        <div className="small muted mono">escrow {short(info.escrow)}</div>
      </div>
      <div className="stats">
        {stat('Remaining budget', a.budget, 'funded, not yet paid to anyone', 'acct-budget')}
        {stat('Committed pay', a.committed, 'credited to labelers, not withdrawn', 'acct-committed')}
        {stat('Funded', a.funded, `paid out ${amount(a.paidOut, c.token)} · refunded ${amount(a.refunded, c.token)}`, 'acct-funded')}
        {stat('Stakes held', a.stakes, `slashed ${amount(a.slashed, c.token)}`, 'acct-stakes')}
      </div>
      <details>
        <summary>Terms</summary>
        <CampaignTerms c={c} />
      </details>
      <h3>Settlements</h3>
      <div className="scroll-x">
        <table data-testid="settlements">
          <thead>
            <tr>
              <th>#</th>
              <th>Labels</th>
              <th>Labelers</th>
              <th>Credited</th>
              <th>Merkle root</th>
              <th>Dataset CID</th>
              <th>Transaction</th>
            </tr>
          </thead>
          <tbody>
            {c.settlements.map((s) => (
              <tr key={s.batchIndex}>
                <td>{s.batchIndex}</td>
                <td>{s.labelCount}</td>
                <td>{s.labelers}</td>
                <td>{amount(s.credited, c.token)}</td>
                <td className="mono small" title={s.merkleRoot}>
                  {short(s.merkleRoot)}
                </td>
                <td className="mono small" title={s.datasetCid}>
                  {s.datasetCid ? short(s.datasetCid, 8) : '—'}
                </td>
                <td className="mono small" title={s.txHash}>
                  {short(s.txHash)}
                </td>
              </tr>
            ))}
            {!c.settlements.length ? (
              <tr>
                <td colSpan={7} className="muted">
                  No settlement yet: the service settles exported batches.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </div>
      {c.open ? (
        <div className="row">
          <label className="field inline">
            <span>Add funds</span>
            <span className="with-unit">
              <input inputMode="decimal" value={topUp} onChange={(e) => setTopUp(e.target.value)} data-testid="fund-amount" />
              <span className="small muted">{c.token.symbol}</span>
            </span>
          </label>
          <button onClick={addFunds} disabled={fund.busy} data-testid="fund-btn">
            {fund.busy ? 'Funding…' : 'Add funds'}
          </button>
          <button className="danger" onClick={doClose} disabled={close.busy} data-testid="close-chain-btn">
            {close.busy ? 'Closing…' : 'Close on chain'}
          </button>
        </div>
      ) : null}
      {!c.open ? (
        <div className="row" data-testid="closed-info">
          <span className="small">
            Closed {new Date(c.closedAt * 1000).toLocaleString()}.{' '}
            {windowOver ? 'The settlement window is over: stakes are unlocked.' : `The service can still settle work until ${new Date(c.settlementEndsAt * 1000).toLocaleString()}; then stakes unlock and the budget can be refunded.`}
          </span>
          {windowOver && BigInt(a.budget) > 0n ? (
            <button onClick={doRefund} disabled={refund.busy} data-testid="refund-btn">
              {refund.busy ? 'Refunding…' : `Refund ${amount(a.budget, c.token)}`}
            </button>
          ) : null}
        </div>
      ) : null}
      {topErr ? (
        <div className="error" role="alert">
          {topErr}
        </div>
      ) : null}
      <TxSteps flow={fund} testid="tx-fund" />
      <TxSteps flow={close} testid="tx-close" />
      <TxSteps flow={refund} testid="tx-refund" />
    </div>
  )
}
