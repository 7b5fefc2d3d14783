// The chain CLI: `instruct3 chain up` as a real process (anvil + deploy + deployment JSON, stops
// cleanly on SIGTERM), then `campaign create|join|settle|status|close` and `chain status` run
// in-process against it through commander (one process start instead of one per command).
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { keccak256, toHex } from 'viem'
import { register } from '../../src/cli/commands/chain.ts'
import { devAccount } from '../../src/chain/client.ts'
import { buildMerkleTree } from '../../src/batch/index.ts'
import { packageRoot } from '../../src/util/paths.ts'
import { Instruct3Error } from '../../src/util/errors.ts'

let home: string
let chainUp: ChildProcess
let upOutput = ''

before(async () => {
  home = mkdtempSync(join(tmpdir(), 'instruct3-chain-cli-'))
  process.env.INSTRUCT3_HOME = home
  chainUp = spawn(process.execPath, [join(packageRoot, 'bin', 'instruct3.js'), 'chain', 'up', '--port', '0', '--no-persist'], {
    env: { ...process.env, INSTRUCT3_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`chain up not ready in 90 s:\n${upOutput}`)), 90_000)
    chainUp.stdout!.on('data', (b: Buffer) => {
      upOutput += b.toString()
      if (upOutput.includes('chain ready')) {
        clearTimeout(timer)
        resolve()
      }
    })
    chainUp.stderr!.on('data', (b: Buffer) => (upOutput += b.toString()))
    chainUp.once('exit', (code) => reject(new Error(`chain up exited ${code}:\n${upOutput}`)))
  })
})

after(async () => {
  if (chainUp && chainUp.exitCode === null) {
    const exited = new Promise((r) => chainUp.once('exit', r))
    chainUp.kill('SIGTERM')
    await exited
    // anvil went with it
    const pid = Number(/pid (\d+)/.exec(upOutput)?.[1])
    assert.throws(() => process.kill(pid, 0), 'anvil still running after chain up stopped')
  }
  rmSync(home, { recursive: true, force: true })
})

/** Run one CLI command in-process; returns what it printed. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command().exitOverride()
  register(program)
  const lines: string[] = []
  const log = console.log
  console.log = (...a: unknown[]) => void lines.push(a.join(' '))
  try {
    await program.parseAsync(['node', 'instruct3', ...args])
  } finally {
    console.log = log
  }
  return lines.join('\n')
}

test('chain up deploys and campaign commands drive a campaign', { timeout: 120_000 }, async () => {
  const deployment = JSON.parse(readFileSync(join(home, 'chain', 'deployment.json'), 'utf8'))
  assert.match(upOutput, new RegExp(`LabelingEscrow ${deployment.escrow}`))

  assert.match(await cli('campaign', 'create', '--reward', '2', '--fund', '500', '--stake', '5', '--vesting', '1d', '--mint'), /campaign 1 created/)
  const [l1, l2] = [devAccount(2).address, devAccount(3).address]
  await cli('campaign', 'join', '1', '--dev-account', '2', '--mint')
  await cli('campaign', 'join', '1', '--dev-account', '3', '--mint')

  const hashes = Array.from({ length: 6 }, (_, i) => keccak256(toHex(`label ${i}`)))
  const tree = buildMerkleTree(hashes)
  const batch = {
    version: 2,
    campaignId: 'svc-1',
    chainCampaignId: '1',
    createdAt: new Date().toISOString(),
    merkleRoot: tree.root,
    labelCount: 6,
    labels: hashes.map((h, i) => ({ labelHash: h, labeler: i < 4 ? l1 : l2, kind: 'demonstration', proof: tree.proofs[i] })),
    labelers: [
      { address: l1, accepted: 4, qualityBps: 9000, goldFailures: 0, goldTotal: 2 },
      { address: l2, accepted: 2, qualityBps: 6000, goldFailures: 2, goldTotal: 2 },
    ],
    datasetCid: 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku',
  }
  const file = join(home, 'batch.json')
  writeFileSync(file, JSON.stringify(batch))
  const out = await cli('campaign', 'settle', '1', file)
  assert.match(out, /batch 1 settled/)
  assert.match(out, new RegExp(`SLASHED ${l2}`))
  assert.match(out, new RegExp(`badge ${l1}: minted, level 1 ipfs://`))

  // reward 2 x 4 accepted x 90% = 7.2: 3.6 claimable + 3.6 vesting
  const status = JSON.parse(await cli('campaign', 'status', '1', '--labeler', l1))
  assert.equal(status.positions[l1].claimable, '3600000000000000000')
  assert.equal(status.positions[l1].vesting, '3600000000000000000')
  const labeler = JSON.parse(await cli('chain', 'status', l1))
  assert.equal(labeler.badge.level, 1)
  assert.equal(labeler.earnings[deployment.token], '7200000000000000000')
  // the badge metadata is kept by CID for pinning
  const cid = labeler.badge.tokenURI.slice('ipfs://'.length)
  const meta = JSON.parse(readFileSync(join(home, 'chain', 'badges', `${cid}.json`), 'utf8'))
  assert.deepEqual(meta.datasets, [batch.datasetCid])

  // bad input: named errors
  // settling the same export again pays nothing and says why
  assert.match(await cli('campaign', 'settle', '1', file), new RegExp(`skipped ${l1}: no labels beyond those already paid`))
  writeFileSync(file, JSON.stringify({ ...batch, labelers: [{ ...batch.labelers[0], qualityBps: 12_000 }] }))
  await assert.rejects(cli('campaign', 'settle', '1', file), (e: unknown) => e instanceof Instruct3Error && /labelers\[0\]\.qualityBps/.test(e.message))
  await assert.rejects(cli('campaign', 'fund', '1', '10', '--dev-account', '2'), /NotRequester/)

  assert.match(await cli('campaign', 'close', '1'), /campaign 1 closed; settlement window ends at/)
  await assert.rejects(cli('campaign', 'refund', '1'), /SettlementWindowOpen/)
})
