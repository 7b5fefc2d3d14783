// The web app's cheap chain reads, served by the labeling server, and the link from a service campaign
// to its on-chain campaign. The chain side implements the reads (src/chain/app-reads.ts) and is passed
// in as the server's `chain` option, so this layer never imports src/chain. The server only reads:
// every transaction is signed in the user's own wallet, in the browser.
import type { Context, Hono } from 'hono'
import { ApiError } from './errors.ts'
import { requireRole } from './auth.ts'
import { getCampaign } from './campaigns.ts'
import type { LabelingContext, Principal } from './context.ts'
import { Instruct3Error } from '../util/errors.ts'

/** What `createChainReads(deployment)` in src/chain/app-reads.ts provides (typed loosely here: this layer only passes the JSON on). */
export type ChainReadsHook = {
  info(): Promise<unknown>
  campaign(id: bigint): Promise<unknown>
  positions(address: string, fresh?: boolean): Promise<unknown>
  checkLink(id: bigint, requester: string): Promise<void>
}

type Deps = {
  ctx: LabelingContext
  who: (c: Context) => Promise<Principal>
  body: (c: Context) => Promise<Record<string, unknown>>
}

/** An on-chain campaign id: a decimal integer string (or number) from 1 to 2^64. */
export function parseChainCampaignId(v: unknown, field: string): bigint {
  const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v
  if (typeof s !== 'string' || !/^[1-9][0-9]{0,19}$/.test(s) || BigInt(s) > 2n ** 64n) {
    throw new ApiError(400, 'must be an on-chain campaign id (a positive integer)', { code: 'EBADREQUEST', details: { field } })
  }
  return BigInt(s)
}

/** Chain read failures become API errors: bad ids are the caller's fault (4xx), RPC failures the node's (502). */
async function chainCall<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f()
  } catch (err) {
    if (err instanceof ApiError || !(err instanceof Instruct3Error)) throw err
    const status = err.code === 'ENOCAMPAIGN' ? 404 : err.code === 'ENOTREQUESTER' ? 403 : err.code === 'EWRONGORACLE' || err.code === 'EADDRESS' ? 400 : 502
    throw new ApiError(status, err.shortMessage, { code: err.code, details: err.details })
  }
}

export function registerChainRoutes(app: Hono, chain: ChainReadsHook | undefined, { ctx, who, body }: Deps): void {
  const need = (): ChainReadsHook => {
    if (!chain) throw new ApiError(404, 'this server has no chain deployment (start it with --deployment, after `instruct3 chain up`)', { code: 'ENOCHAIN' })
    return chain
  }
  // Public: addresses and chain id are what a wallet needs before anything else.
  app.get('/api/chain', async (c) => c.json(await chainCall(() => need().info())))
  app.get('/api/chain/campaigns/:id', async (c) => {
    await who(c)
    const id = parseChainCampaignId(c.req.param('id'), 'id')
    return c.json(await chainCall(() => need().campaign(id)))
  })
  // Only your own positions: cached a few seconds; ?fresh=1 after one of your transactions.
  app.get('/api/chain/positions/me', async (c) => {
    const p = await who(c)
    return c.json(await chainCall(() => need().positions(p.address, c.req.query('fresh') === '1')))
  })
  // Link a service campaign to the on-chain campaign its requester created and funded in the wallet.
  app.post('/api/campaigns/:id/chain', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const camp = await getCampaign(ctx, c.req.param('id'))
    const chainId = parseChainCampaignId((await body(c)).chainCampaignId, 'chainCampaignId')
    if (camp.chain_campaign_id !== null) {
      if (camp.chain_campaign_id === chainId.toString()) return c.json({ campaign: camp })
      throw new ApiError(409, `campaign is already linked to on-chain campaign ${camp.chain_campaign_id}`, { code: 'ELINKED', details: { field: 'chainCampaignId' } })
    }
    const other = await ctx.db.selectFrom('campaigns').select('id').where('chain_campaign_id', '=', chainId.toString()).executeTakeFirst()
    if (other) throw new ApiError(409, `on-chain campaign ${chainId} is already linked to campaign ${other.id}`, { code: 'ELINKED', details: { field: 'chainCampaignId' } })
    // Hostile until checked: the id must name a campaign this signed-in requester created, settled by this service's oracle.
    await chainCall(() => need().checkLink(chainId, p.address))
    // `is null` in the update: of two concurrent links, only the first one lands.
    const r = await ctx.db.updateTable('campaigns').set({ chain_campaign_id: chainId.toString() }).where('id', '=', camp.id).where('chain_campaign_id', 'is', null).executeTakeFirst()
    if (Number(r.numUpdatedRows) !== 1) throw new ApiError(409, 'campaign was linked meanwhile', { code: 'ELINKED', details: { field: 'chainCampaignId' } })
    return c.json({ campaign: await getCampaign(ctx, camp.id) })
  })
}
