/**
 * The loop's part of the report: per round, the Labelers table (labels, accepted, quality, gold results,
 * pay, vesting, slashing, badge per wallet), the settlement transaction, Merkle root and batch CID, and
 * the reward model trained on the crowd's rankings with its held-out accuracy per origin; plus a plot
 * of pay against measured quality per labeler.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { formatEther } from 'viem'
import { lineChartSvg, writePng, type Series } from '../pipeline/plot.ts'
import type { RoundState } from './run.ts'

const tokens = (wei: string) => Number(formatEther(BigInt(wei))).toFixed(3)

/** Markdown for the rounds; writes `labeler_pay.png` into `reportDir`. */
export function loopReportMarkdown(rounds: RoundState[], reportDir: string, opts: { simulated: boolean; manifest?: string }): string {
  mkdirSync(reportDir, { recursive: true })
  const md: string[] = ['## Labelers', '']
  if (opts.simulated)
    md.push(
      '**These labelers are a simulated crowd, not people** (origin `simulated-labeler`): five wallets that go through the real labeling API',
      '(SIWE sign-in, task claims, EIP-712-signed rankings) and stake on the local anvil chain. They rank each policy sample by its',
      "closeness to the task's reference answer, a rule the reward model never sees, with their own noise: three careful wallets,",
      'one careless (noise as large as the differences between samples) and one cheater (ranks by the reverse rule and so fails gold tasks).',
      '',
    )
  for (const r of rounds) {
    md.push(`### Round ${r.round}`, '')
    md.push(`- policy sampled: \`${r.policyCid}\``)
    md.push(`- labeling campaign \`${r.campaign}\`, on-chain campaign ${r.chainCampaignId}`)
    md.push(`- batch CID \`${r.batchCid}\`, Merkle root \`${r.merkleRoot}\`, ${r.labelCount} signed labels`)
    md.push(`- settlement transaction \`${r.settlement?.txHash ?? 'none'}\`${r.settlement?.resumed ? ' (found on chain when the round resumed; not sent again)' : ''}`)
    if (r.manifest) md.push(`- round manifest \`${r.manifest}\` (\`instruct3 verify ${r.manifest}\`)`)
    md.push('')
    md.push('| wallet | kind | address | labels | accepted | quality (bps) | gold failed / total | paid now (I3T) | vesting (I3T) | slashed | badge |')
    md.push('|---|---|---|---:|---:|---:|---:|---:|---:|---|---|')
    for (const l of r.labelers ?? [])
      md.push(`| ${l.member} | ${l.kind} | \`${l.address.slice(0, 10)}…\` | ${l.labels} | ${l.accepted} | ${l.qualityBps} | ${l.goldFailures} / ${l.goldTotal} | ${tokens(l.paidNow)} | ${tokens(l.vesting)} | ${l.slashed ? '**yes**' : 'no'} | ${l.badge ?? '-'} |`)
    md.push('')
    if (r.reward) {
      md.push(`Reward model \`${r.reward.cid}\`, trained from the SFT model on ${r.reward.trainComparisons} comparisons merged from the crowd's rankings of ${r.reward.batches.length} batch(es) (every signature and root re-verified first; labels of wallets proven fraudulent left out). Held-out pairwise accuracy by origin:`, '')
      md.push('| origin | accuracy | prompts |', '|---|---:|---:|')
      for (const [o, a] of Object.entries(r.reward.accuracy)) md.push(`| ${o} | ${a.accuracy.toFixed(3)} | ${a.prompts} |`)
      md.push('')
    }
    if (r.ppo) md.push(`PPO from this round's policy against that reward model: new policy \`${r.ppo.cid}\`, RM score ${fmt(r.ppo.metrics.first_score)} -> ${fmt(r.ppo.metrics.last_score)}, KL ${fmt(r.ppo.metrics.last_kl)} nats after ${r.ppo.metrics.iterations} iterations.`, '')
  }
  // pay against quality: one point per wallet (quality averaged over rounds, pay summed)
  const byWallet = new Map<string, { q: number[]; pay: number }>()
  for (const r of rounds)
    for (const l of r.labelers ?? []) {
      const e = byWallet.get(l.member) ?? { q: [], pay: 0 }
      e.q.push(l.qualityBps)
      e.pay += Number(formatEther(BigInt(l.paidNow) + BigInt(l.vesting)))
      byWallet.set(l.member, e)
    }
  const series: Series[] = [...byWallet].map(([name, e]) => ({ name, points: [[e.q.reduce((a, b) => a + b, 0) / e.q.length, e.pay]] }))
  if (series.length) {
    writePng(join(reportDir, 'labeler_pay.png'), lineChartSvg(series, { title: 'Pay against measured quality, per labeler', xLabel: 'quality (bps, mean over rounds)', yLabel: 'paid + vesting (I3T)' }))
    md.push('![labeler_pay.png](labeler_pay.png)', '')
  }
  return md.join('\n')
}

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? 'n/a' : v.toFixed(3))
