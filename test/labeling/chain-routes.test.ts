// The labeling server's chain reads and campaign link (src/labeling/chain-routes.ts over
// src/chain/app-reads.ts) against a real anvil, and the web app's transaction runner
// (web/src/chain/tx.ts) run in Node with viem local accounts: a simulated revert and a mined revert
// are both reported by the contract's error name.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicClient, createWalletClient, custom, http, parseEther, type Address } from 'viem'
import { startAnvil, type Anvil } from '../../src/chain/anvil.ts'
import { chainFor, devAccount } from '../../src/chain/client.ts'
import { deployContracts } from '../../src/chain/deploy.ts'
import { createChainContext, sendTx } from '../../src/chain/context.ts'
import type { Deployment } from '../../src/chain/deployment.ts'
import { closeCampaign, createCampaign, joinCampaign, type CampaignParams } from '../../src/chain/campaign.ts'
import { createChainReads } from '../../src/chain/app-reads.ts'
import { labelingEscrowAbi, testTokenAbi } from '../../src/chain/generated/index.ts'
import { replayRevert, sendCall, TxError, type TxState } from '../../web/src/chain/tx.ts'
import { startTestServer } from './helpers.ts'

let anvil: Anvil
let d: Deployment
let t: Awaited<ReturnType<typeof startTestServer>>
const [requester, oracle, labeler, other, otherOracle, late, eager] = [devAccount(0), devAccount(1), devAccount(2), devAccount(5), devAccount(6), devAccount(7), devAccount(8)]

const params = async (): Promise<CampaignParams> => {
  const now = (await createChainContext({ deployment: d }).publicClient.getBlock()).timestamp
  return { rewardPerLabel: parseEther('1'), requiredStake: parseEther('10'), qualityThresholdBps: 8000, immediateBps: 5000, bonusBps: 1000, fraudGoldFailBps: 3000, vestingPeriod: 7n * 86400n, deadline: now + 30n * 86400n, settlementWindow: 86400n }
}
const ctxOf = (a: typeof requester) => createChainContext({ deployment: d, account: a })
const mint = (a: typeof requester) => sendTx(ctxOf(a), 'mint', { address: d.token!, abi: testTokenAbi, functionName: 'mint', args: [a.address, parseEther('1000')] })

before(async () => {
  anvil = await startAnvil()
  d = await deployContracts({ rpcUrl: anvil.rpcUrl, deployer: requester, oracle: oracle.address })
  for (const a of [requester, labeler, other, late, eager]) await mint(a)
  // 1: the requester's, settled by the service; 2: another requester's; 3: the requester's, settled by another (trusted) oracle
  await createCampaign(ctxOf(requester), { token: d.token!, oracle: oracle.address, params: await params(), funding: parseEther('100') })
  await createCampaign(ctxOf(other), { token: d.token!, oracle: oracle.address, params: await params(), funding: parseEther('10') })
  await sendTx(ctxOf(requester), 'trust', { address: d.escrow, abi: labelingEscrowAbi, functionName: 'setTrustedOracle', args: [otherOracle.address, true] })
  await createCampaign(ctxOf(requester), { token: d.token!, oracle: otherOracle.address, params: await params(), funding: parseEther('10') })
  // A long cache so "cached" is observable on a slow machine.
  t = await startTestServer({ requesters: [requester.address, other.address], chain: createChainReads(d, { cacheMs: 600_000 }) })
})

after(async () => {
  await t?.close()
  await anvil?.close()
})

test('GET /api/chain and /api/chain/campaigns/:id: addresses, token, terms, accounting; bad ids named', async () => {
  const c = t.client()
  assert.equal((await c.call('GET', '/api/chain/campaigns/1')).status, 401, 'campaign reads need a session')
  const info = await c.call('GET', '/api/chain')
  assert.equal(info.status, 200)
  assert.equal(info.body.chainId, 31337)
  assert.equal(info.body.escrow, d.escrow)
  assert.deepEqual(info.body.token, { address: d.token, symbol: 'I3T', decimals: 18 })
  await c.signIn(labeler)
  const v = await c.call('GET', '/api/chain/campaigns/1')
  assert.equal(v.status, 200, JSON.stringify(v.body))
  assert.equal(v.body.terms.rewardPerLabel, parseEther('1').toString())
  assert.equal(v.body.terms.qualityThresholdBps, 8000)
  assert.equal(v.body.terms.settlementWindow, '86400')
  assert.equal(v.body.accounting.funded, parseEther('100').toString())
  assert.equal(v.body.accounting.budget, parseEther('100').toString())
  assert.equal(v.body.open, true)
  assert.equal(v.body.settlementEndsAt, 0)
  assert.deepEqual(v.body.settlements, [])
  const bad = await c.call('GET', '/api/chain/campaigns/1abc')
  assert.equal(bad.status, 400)
  assert.equal(bad.body.error.details.field, 'id')
  const none = await c.call('GET', '/api/chain/campaigns/99')
  assert.equal(none.status, 404)
  assert.equal(none.body.error.code, 'ENOCAMPAIGN')
})

test('POST /api/campaigns/:id/chain links only an on-chain campaign the requester created, settled by this service', async () => {
  const r = t.client()
  await r.signIn(requester)
  const mk = async (name: string) => (await r.call('POST', '/api/campaigns', { name, prompts: ['Explain EIP-1559.'], policy: 'bafy-policy', k: 4 })).body.campaign.id as string
  const s1 = await mk('link one')
  const s2 = await mk('link two')
  const link = (c: typeof r, id: string, chainCampaignId: unknown) => c.call('POST', `/api/campaigns/${id}/chain`, { chainCampaignId })

  const l = t.client()
  await l.signIn(labeler)
  assert.equal((await link(l, s1, '1')).status, 403, 'labelers cannot link')

  for (const [v, status, code] of [['one', 400, 'EBADREQUEST'], ['0', 400, 'EBADREQUEST'], [-1, 400, 'EBADREQUEST'], ['99', 404, 'ENOCAMPAIGN'], ['2', 403, 'ENOTREQUESTER'], ['3', 400, 'EWRONGORACLE']] as const) {
    const res = await link(r, s1, v)
    assert.equal(res.status, status, `${v}: ${JSON.stringify(res.body)}`)
    assert.equal(res.body.error.code, code)
    assert.equal(res.body.error.details.field, 'chainCampaignId')
  }
  const row = () => t.server.ctx.db.selectFrom('campaigns').select('chain_campaign_id').where('id', '=', s1).executeTakeFirstOrThrow()
  assert.equal((await row()).chain_campaign_id, null, 'nothing stored by a refused link')

  const ok = await link(r, s1, '1')
  assert.equal(ok.status, 200, JSON.stringify(ok.body))
  assert.equal((await row()).chain_campaign_id, '1')
  assert.equal((await link(r, s1, '1')).status, 200, 'the same link again is a no-op')
  const twice = await link(r, s2, '1')
  assert.equal(twice.status, 409, 'one on-chain campaign pays one service campaign')
  assert.equal(twice.body.error.code, 'ELINKED')
  assert.equal((await link(r, s1, 1)).status, 200, 'a number id is accepted too')
})

test('GET /api/chain/positions/me: own positions, cached until ?fresh=1', async () => {
  const c = t.client()
  await c.signIn(labeler)
  const first = await c.call('GET', '/api/chain/positions/me')
  assert.equal(first.status, 200, JSON.stringify(first.body))
  assert.equal(first.body.address, labeler.address)
  assert.deepEqual(first.body.campaigns, [])
  assert.equal(first.body.badge, null)
  await joinCampaign(ctxOf(labeler), 1n)
  assert.deepEqual((await c.call('GET', '/api/chain/positions/me')).body.campaigns, [], 'served from the cache')
  const fresh = await c.call('GET', '/api/chain/positions/me?fresh=1')
  assert.equal(fresh.body.campaigns.length, 1)
  const p = fresh.body.campaigns[0]
  assert.equal(p.campaignId, '1')
  assert.equal(p.stake, parseEther('10').toString())
  assert.equal(p.stakeUnlocksAt, 0, 'open: the stake is locked')
  assert.equal(p.slashed, false)
  assert.ok(fresh.body.chainNow > 0)
})

test('positions: ?fresh re-reads only when a block was mined since (a loop on it cannot make the server rescan)', async () => {
  let tick = 0 // a clock that moves at every call, so each read has its own readAt
  const reads = createChainReads(d, { cacheMs: 60_000, now: () => ++tick })
  const first = await reads.positions(eager.address)
  assert.deepEqual(first.campaigns, [])
  // No new block: the same read comes back (same readAt), however often fresh is asked for.
  for (let i = 0; i < 3; i++) assert.equal((await reads.positions(eager.address, true)).readAt, first.readAt)
  await joinCampaign(ctxOf(eager), 1n) // mines blocks
  const after = await reads.positions(eager.address, true)
  assert.equal(after.campaigns.length, 1, 'a new block: read again')
  assert.notEqual(after.readAt, first.readAt)
})

test('a server without a deployment answers /api/chain with 404 ENOCHAIN', async () => {
  const bare = await startTestServer()
  try {
    const res = await bare.client().call('GET', '/api/chain')
    assert.equal(res.status, 404)
    assert.equal(res.body.error.code, 'ENOCHAIN')
  } finally {
    await bare.close()
  }
})

test('web tx runner: a simulated revert and a mined revert both name the contract error', async () => {
  const chain = chainFor(d.chainId, anvil.rpcUrl)
  const publicClient = createPublicClient({ chain, transport: http(anvil.rpcUrl), pollingInterval: 50 })
  const w = { chain, account: late.address as Address, wallet: createWalletClient({ account: late, chain, transport: http(anvil.rpcUrl) }), publicClient }
  const join = (id: bigint, amount: bigint) => ({ address: d.escrow, abi: labelingEscrowAbi, functionName: 'join' as const, args: [id, amount] as const })

  // Simulated: a stake below the minimum never reaches the wallet.
  const states: TxState['status'][] = []
  const nonce = await publicClient.getTransactionCount({ address: late.address })
  await assert.rejects(sendCall(w, join(1n, 1n), (s) => states.push(s.status)), (e: unknown) => e instanceof TxError && e.errorName === 'StakeBelowMinimum' && /^StakeBelowMinimum\(1, 10000000000000000000\)/.test(e.message))
  assert.deepEqual(states, ['checking', 'reverted'])
  assert.equal(await publicClient.getTransactionCount({ address: late.address }), nonce, 'nothing was sent')

  // Mined: campaign 2 closes after the user's view was read; a join sent with its own gas limit is
  // mined and reverts; replaying it names the error.
  await sendTx(ctxOf(late), 'approve', { address: d.token!, abi: testTokenAbi, functionName: 'approve', args: [d.escrow, parseEther('10')] })
  await closeCampaign(ctxOf(other), 2n)
  const hash = await w.wallet.writeContract({ ...join(2n, parseEther('10')), gas: 300_000n })
  const receipt = await publicClient.waitForTransactionReceipt({ hash })
  assert.equal(receipt.status, 'reverted')
  const why = await replayRevert(w, join(2n, parseEther('10')), receipt.blockNumber)
  assert.equal(why.errorName, 'CampaignNotOpen')
  assert.match(why.error, /^CampaignNotOpen\(2\): the campaign is closed/)

  // And through the runner: the same call is stopped at simulation with the same name.
  await assert.rejects(sendCall(w, join(2n, parseEther('10')), () => {}), (e: unknown) => e instanceof TxError && e.errorName === 'CampaignNotOpen')
})

test('web tx runner: a transaction rejected in the wallet (4001) is reported as such, not as a revert', async () => {
  const chain = chainFor(d.chainId, anvil.rpcUrl)
  const node = http(anvil.rpcUrl)({ chain })
  // A JSON-RPC account behind a provider whose user clicks "Reject" on every transaction.
  const provider = {
    request: async ({ method, params }: { method: string; params?: unknown }) => {
      if (method === 'eth_sendTransaction') throw Object.assign(new Error('User rejected the request.'), { code: 4001 })
      return node.request({ method, params } as never)
    },
  }
  const w = { chain, account: late.address as Address, wallet: createWalletClient({ account: late.address, chain, transport: custom(provider) }), publicClient: createPublicClient({ chain, transport: custom(provider) }) }
  const states: TxState[] = []
  await assert.rejects(
    sendCall(w as never, { address: d.token!, abi: testTokenAbi, functionName: 'approve', args: [d.escrow, 1n] }, (s) => states.push(s)),
    (e: unknown) => e instanceof TxError && e.message === 'you rejected the transaction in your wallet' && e.errorName === undefined,
  )
  assert.deepEqual(states.map((s) => s.status), ['checking', 'wallet', 'failed'])
})
