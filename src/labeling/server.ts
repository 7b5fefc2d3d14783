import { createServer, type Server } from 'node:http'
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { availableParallelism } from 'node:os'
import { createVerifier } from './verify-pool.ts'
import { createGroupCommitter } from './group-commit.ts'
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { getCookie, setCookie, deleteCookie } from 'hono/cookie'
import { getRequestListener } from '@hono/node-server'
import { serveStatic } from '@hono/node-server/serve-static'
import { getConnInfo } from '@hono/node-server/conninfo'
import { packageRoot, dataDir } from '../util/paths.ts'
import { openLabelingDb } from './db/connect.ts'
import type { LabelingDb } from './db/schema.ts'
import { ApiError } from './errors.ts'
import { createJsonLogger, silentLogger, type Logger } from './log.ts'
import { createRateLimiter } from './ratelimit.ts'
import { createDeterministicSampler, type ResponseSampler } from './sampler.ts'
import type { LabelingContext, Principal, Role } from './context.ts'
import { authenticate, grantRoles, issueNonce, requireRole, sha256, signIn, signOut } from './auth.ts'
import { campaignProgress, createCampaign, getCampaign, listCampaigns, publicCampaign, setCampaignStatus, type CampaignSpec } from './campaigns.ts'
import { claimTasks } from './tasks.ts'
import { submitLabel } from './labels.ts'
import { loadCampaignQuality, saveQualitySnapshot } from './report.ts'
import { createTtlCache, labelerStats, type LabelerCampaignStats } from './stats.ts'
import { exportCampaign } from './export.ts'
import { FLAGS, type TaskKind } from './content.ts'
import { labelDomain, LABEL_TYPES } from './signature.ts'
import { DEFAULT_SPAM, type SpamThresholds } from './quality.ts'
import { registerChainRoutes, type ChainReadsHook } from './chain-routes.ts'
import { registerUxRoutes } from './ux-routes.ts'

/** Earnings and badges come from the chain side later; until then the API field is null/empty. */
export type RewardsLookup = (address: string) => Promise<{ earnings: string | null; badges: string[] }>

export type LabelingServerOptions = {
  /** An open database, or a URL/path for openLabelingDb (SQLite file or postgres://). */
  db: LabelingDb | string
  /** SQLite durability when `db` is a path: FULL (default, survives power loss) or NORMAL (see db/connect.ts). */
  synchronous?: 'FULL' | 'NORMAL'
  sampler?: ResponseSampler
  /** Per-campaign sampler built from the campaign's policy reference (path or CID). */
  samplerFor?: (policy: string) => Promise<ResponseSampler>
  chainId?: number
  /** SIWE domains (host[:port]) accepted; default: 127.0.0.1:PORT and localhost:PORT once listening. */
  domains?: string[]
  requesters?: string[]
  reviewers?: string[]
  /** Demo only: every signed-in address gets every role. */
  openRoles?: boolean
  now?: () => number
  /** Gold placement's random source (tests only; default crypto randomInt). */
  randomInt?: (max: number) => number
  sessionTtlMs?: number
  nonceTtlMs?: number
  /** Maximum request body in bytes (413 beyond). Default 64 KiB. */
  bodyLimit?: number
  /** Maximum body of POST /api/campaigns (prompts and gold inline). Default 8 MiB. */
  campaignBodyLimit?: number
  /** Per-client token bucket; false disables. Default 50/s, burst 100 (sign-in: 5/s, burst 20 per IP). */
  rateLimit?: { perSecond: number; burst: number } | false
  logger?: Logger | false
  /** Log every request (one JSON line each). Default true. */
  logRequests?: boolean
  /** Built web app to serve at / (default web/dist in the package). */
  webDir?: string
  /** Where POST /api/campaigns/:id/export writes (default $INSTRUCT3_HOME/label-exports). */
  exportDir?: string
  addToStore?: (dir: string) => Promise<string>
  rewards?: RewardsLookup
  /** The web app's chain reads (createChainReads(deployment) from src/chain/app-reads.ts); without it /api/chain* answers 404. */
  chain?: ChainReadsHook
  /**
   * With a chain deployment: whether `address` joined (staked in) on-chain campaign
   * `chainCampaignId` and was not slashed (src/chain/membership.ts). Tasks of a campaign with a
   * chain id are leased only to such labelers, so every exported label can be paid.
   */
  membership?: (chainCampaignId: string, address: string) => Promise<boolean>
  spam?: SpamThresholds
  /** Most unexpired task leases one wallet may hold over all campaigns (default 20). */
  maxLeasesPerWallet?: number
  /** How long /api/me/stats answers are cached per address (ms, default 2000). */
  statsTtlMs?: number
  /** Activity heartbeats (timing.ts): interval the web app uses and least gap between stored beats. Default 15 s / 5 s; tests shorten them. */
  heartbeat?: { intervalMs: number; minGapMs: number }
  /** Worker threads verifying label signatures; 0 verifies on the event loop. Default: 1 when the machine has >= 2 CPUs. */
  verifyThreads?: number
}

export type LabelingServer = {
  app: Hono
  ctx: LabelingContext
  db: LabelingDb
  listen(port?: number, host?: string): Promise<{ url: string; port: number; server: Server }>
  close(): Promise<void>
}

const COOKIE = 'i3_session'

/** `p`, or a rejection after `ms` (the pending work is abandoned, not cancelled). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)
    t.unref()
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    )
  })
}

export async function createLabelingServer(opts: LabelingServerOptions): Promise<LabelingServer> {
  const ldb = typeof opts.db === 'string' ? await openLabelingDb(opts.db, opts.synchronous ? { synchronous: opts.synchronous } : {}) : opts.db
  const log = opts.logger === false ? silentLogger : (opts.logger ?? createJsonLogger())
  const lower = (xs?: string[]) => new Set((xs ?? []).map((x) => x.toLowerCase()))
  const ctx: LabelingContext = {
    db: ldb.db,
    dialect: ldb.dialect,
    now: opts.now ?? Date.now,
    ...(opts.randomInt ? { randomInt: opts.randomInt } : {}),
    chainId: opts.chainId ?? 31337,
    sampler: opts.sampler ?? createDeterministicSampler(),
    ...(opts.samplerFor ? { samplerFor: opts.samplerFor } : {}),
    requesters: lower(opts.requesters),
    reviewers: lower(opts.reviewers),
    openRoles: opts.openRoles ?? false,
    sessionTtlMs: opts.sessionTtlMs ?? 12 * 3600_000,
    nonceTtlMs: opts.nonceTtlMs ?? 10 * 60_000,
    sessionCache: new Map(),
    ...(opts.maxLeasesPerWallet !== undefined ? { maxLeasesPerWallet: opts.maxLeasesPerWallet } : {}),
    groupCommit: createGroupCommitter(ldb.db),
    verifier: createVerifier(opts.verifyThreads ?? (availableParallelism() >= 2 ? 1 : 0)),
  }
  const domains = new Set(opts.domains ?? [])
  let listenPort = 0
  const spam = opts.spam ?? DEFAULT_SPAM
  ctx.spam = spam
  if (opts.heartbeat) ctx.heartbeat = opts.heartbeat
  const limiter = opts.rateLimit === false ? null : createRateLimiter(opts.rateLimit ?? { perSecond: 50, burst: 100 })
  const authLimiter = opts.rateLimit === false ? null : createRateLimiter({ perSecond: 5, burst: 20 })
  const webDir = resolve(opts.webDir ?? join(packageRoot, 'web', 'dist'))
  const exportRoot = resolve(opts.exportDir ?? join(dataDir(), 'label-exports'))
  const logRequests = (opts.logRequests ?? true) && opts.logger !== false

  const app = new Hono()
  const clientIp = (c: Context) => {
    try {
      return getConnInfo(c).remote.address ?? 'unknown'
    } catch {
      return 'unknown'
    }
  }

  app.use('*', async (c, next) => {
    const t0 = performance.now()
    await next()
    if (logRequests || c.res.status >= 500)
      log[c.res.status >= 500 ? 'error' : 'info']('request', { method: c.req.method, path: c.req.path, status: c.res.status, ms: +(performance.now() - t0).toFixed(2), ip: clientIp(c) })
  })
  // Campaign creation carries its prompts and gold inline, so it gets its own (larger) body limit.
  const limitBody = (max: number) => bodyLimit({ maxSize: max, onError: (c) => c.json({ error: { code: 'ETOOLARGE', message: `request body larger than ${max} bytes` } }, 413) })
  const smallBody = limitBody(opts.bodyLimit ?? 64 * 1024)
  const campaignBody = limitBody(opts.campaignBodyLimit ?? 8 * 1024 * 1024)
  app.use('/api/*', (c, next) => (c.req.method === 'POST' && c.req.path === '/api/campaigns' ? campaignBody(c, next) : smallBody(c, next)))
  // Rate limits are keyed on the signed-in address when the cookie names a valid session, else on the
  // client address: a made-up cookie buys no bucket of its own. (authenticate caches valid sessions.)
  const rateKey = async (c: Context): Promise<string> => {
    const cookie = getCookie(c, COOKIE)
    if (cookie) {
      const p = await authenticate(ctx, cookie).catch(() => null)
      if (p) return 'a:' + p.address
    }
    return 'ip:' + clientIp(c)
  }
  app.use('/api/*', async (c, next) => {
    if (c.req.method === 'POST' && !(c.req.header('content-type') ?? '').startsWith('application/json'))
      return c.json({ error: { code: 'EUNSUPPORTED', message: 'POST bodies must be application/json' } }, 415)
    const isAuth = c.req.path.startsWith('/api/auth/')
    const lim = isAuth ? authLimiter : limiter
    if (lim) {
      const r = lim.take(isAuth ? 'ip:' + clientIp(c) : await rateKey(c))
      if (!r.ok) {
        c.header('Retry-After', String(r.retryAfterS))
        return c.json({ error: { code: 'ERATELIMIT', message: 'too many requests; slow down' } }, 429)
      }
    }
    await next()
  })
  app.onError((err, c) => {
    if (err instanceof ApiError) return c.json({ error: { code: err.code, message: err.message, details: err.details } }, err.status as 400)
    log.error('unhandled', { path: c.req.path, err: String((err as Error)?.stack ?? err) })
    return c.json({ error: { code: 'EINTERNAL', message: 'internal error' } }, 500)
  })

  const body = async (c: Context): Promise<Record<string, unknown>> => {
    let v: unknown
    try {
      v = await c.req.json()
    } catch {
      throw new ApiError(400, 'body is not valid JSON', { code: 'EBADJSON' })
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'body must be a JSON object', { code: 'EBADJSON' })
    return v as Record<string, unknown>
  }
  const who = (c: Context): Promise<Principal> => authenticate(ctx, getCookie(c, COOKIE))
  const expectDomain = (c: Context) => {
    const url = new URL(c.req.url)
    const allowed = domains.size ? domains : new Set([`127.0.0.1:${listenPort}`, `localhost:${listenPort}`])
    // The message's domain must be one we serve; which one is taken from the message (checked below).
    return { allowed, proto: url.protocol }
  }

  app.get('/api/health', (c) => c.json({ ok: true, dialect: ctx.dialect }))
  app.get('/api/config', (c) => c.json({ chainId: ctx.chainId, eip712: { domain: labelDomain(ctx.chainId), types: LABEL_TYPES, primaryType: 'Label' }, flags: FLAGS, openRoles: ctx.openRoles }))

  app.get('/api/auth/nonce', async (c) => c.json(await issueNonce(ctx)))
  app.post('/api/auth/verify', async (c) => {
    const b = await body(c)
    const { allowed, proto } = expectDomain(c)
    const m = typeof b.message === 'string' ? /^(\S+) wants you to sign in/.exec(b.message) : null
    const domain = m && allowed.has(m[1]) ? m[1] : [...allowed][0]
    // https is always accepted for a served domain (TLS may end at a proxy in front of this server).
    const r = await signIn(ctx, { message: b.message, signature: b.signature }, { domain, origins: [...new Set([`${proto}//${domain}`, `https://${domain}`])] })
    setCookie(c, COOKIE, r.token, { httpOnly: true, sameSite: 'Strict', path: '/', secure: proto === 'https:', maxAge: Math.max(1, Math.floor((r.expiresAt - ctx.now()) / 1000)) })
    return c.json({ address: r.principal.address, roles: r.principal.roles, expiresAt: r.expiresAt })
  })
  app.post('/api/auth/logout', async (c) => {
    await signOut(ctx, getCookie(c, COOKIE))
    deleteCookie(c, COOKIE, { path: '/' })
    return c.json({ ok: true })
  })
  app.get('/api/me', async (c) => c.json(await who(c)))
  // "My work": live counts plus quality as of each campaign's last export (stats.ts), cached per
  // address for a few seconds; the chain lookup (many RPC calls) is cached longer and bounded in time.
  const statsCache = createTtlCache<LabelerCampaignStats[]>({ ttlMs: opts.statsTtlMs ?? 2000, maxEntries: 10_000 })
  const rewardsCache = createTtlCache<{ earnings: string | null; badges: string[] }>({ ttlMs: 30_000, maxEntries: 10_000 })
  const lookupRewards = (address: string) =>
    opts.rewards
      ? rewardsCache.get(address, () => withTimeout(opts.rewards!(address), 5000)).catch((err) => {
          log.error('rewards lookup failed', { address, err: String((err as Error)?.message ?? err) })
          return { earnings: null, badges: [] as string[] }
        })
      : Promise.resolve({ earnings: null, badges: [] as string[] })
  app.get('/api/me/stats', async (c) => {
    const p = await who(c)
    const [campaigns, rewards] = await Promise.all([statsCache.get(p.address, () => labelerStats(ctx, p.address)), lookupRewards(p.address)])
    return c.json({ address: p.address, roles: p.roles, campaigns, ...rewards })
  })
  app.post('/api/users/:address/roles', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const b = await body(c)
    if (!Array.isArray(b.roles) || b.roles.some((r) => !['requester', 'labeler', 'reviewer'].includes(r as string))) throw new ApiError(400, 'roles must be a list of requester | labeler | reviewer')
    let roles: Role[]
    try {
      roles = await grantRoles(ctx, c.req.param('address'), b.roles as Role[])
    } catch (e) {
      if (e instanceof ApiError) throw e
      throw new ApiError(400, 'not a valid address', { details: { field: 'address' } })
    }
    return c.json({ address: c.req.param('address').toLowerCase(), roles })
  })

  // Labelers see campaigns without the policy reference, prompt source, creator or gold count.
  const isRequester = (p: Principal) => p.roles.includes('requester')
  app.get('/api/campaigns', async (c) => {
    const p = await who(c)
    const all = await listCampaigns(ctx)
    return c.json({ campaigns: isRequester(p) ? all : all.map(publicCampaign) })
  })
  app.post('/api/campaigns', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const camp = await createCampaign(ctx, p, (await body(c)) as unknown as CampaignSpec)
    log.info('campaign created', { campaign: camp.id, by: p.address })
    return c.json({ campaign: camp }, 201)
  })
  app.get('/api/campaigns/:id', async (c) => {
    const p = await who(c)
    const camp = await getCampaign(ctx, c.req.param('id'))
    const progress = await campaignProgress(ctx, camp.id)
    if (isRequester(p)) return c.json({ campaign: camp, progress })
    return c.json({ campaign: publicCampaign(camp), progress: { byKind: progress.byKind } })
  })
  app.post('/api/campaigns/:id/close', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    return c.json({ campaign: await setCampaignStatus(ctx, c.req.param('id'), 'closed') })
  })
  app.post('/api/campaigns/:id/tasks/claim', async (c) => {
    const p = await who(c)
    const b = await body(c)
    const kinds = Array.isArray(b.kinds) ? (b.kinds.filter((k) => ['demonstration', 'ranking', 'review', 'prompt'].includes(k as string)) as TaskKind[]) : undefined
    if (opts.membership) {
      const chainId = (await getCampaign(ctx, c.req.param('id'))).chain_campaign_id
      if (chainId !== null && !(await opts.membership(chainId, p.address))) {
        throw new ApiError(403, `${p.address} has not joined on-chain campaign ${chainId}: stake first (instruct3 campaign join ${chainId})`, { code: 'ENOTJOINED' })
      }
    }
    return c.json({ tasks: await claimTasks(ctx, p, c.req.param('id'), { count: typeof b.count === 'number' ? b.count : 1, kinds }) })
  })
  app.get('/api/campaigns/:id/quality', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const id = c.req.param('id')
    const { quality } = await loadCampaignQuality(ctx, id, spam)
    return c.json({
      progress: await campaignProgress(ctx, id),
      meanAgreement: quality.meanAgreement,
      labelers: quality.labelers,
      spamLabels: quality.spam.size,
      acceptedLabels: quality.accepted.size,
    })
  })
  app.post('/api/campaigns/:id/export', async (c) => {
    const p = await who(c)
    requireRole(p, 'requester')
    const id = c.req.param('id')
    await getCampaign(ctx, id)
    const r = await exportCampaign(ctx, id, join(exportRoot, id), { spam, ...(opts.addToStore ? { addToStore: opts.addToStore } : {}) })
    // Labelers see their quality (gold results included) from this export on.
    await saveQualitySnapshot(ctx, id, (await loadCampaignQuality(ctx, id, spam)).quality)
    statsCache.clear()
    log.info('campaign exported', { campaign: id, dir: r.dir, root: r.manifest.merkleRoot })
    return c.json({ dir: r.dir, files: r.files, merkleRoot: r.manifest.merkleRoot, labelCount: r.manifest.labelCount, datasetCid: r.manifest.datasetCid, counts: r.counts })
  })
  app.post('/api/labels', async (c) => {
    const p = await who(c)
    const b = await body(c)
    const r = await submitLabel(ctx, p, { taskId: b.taskId, idempotencyKey: b.idempotencyKey, label: b.label, signature: b.signature })
    return c.json(r, r.duplicate ? 200 : 201)
  })
  app.get('/api/labels/:hash', async (c) => {
    const p = await who(c)
    const row = await ctx.db.selectFrom('labels').selectAll().where('label_hash', '=', c.req.param('hash').toLowerCase()).executeTakeFirst()
    if (!row || (row.labeler !== p.address && !p.roles.includes('requester'))) throw new ApiError(404, 'no such label (or not yours)', { code: 'ENOLABEL' })
    return c.json({ id: row.id, labelHash: row.label_hash, labeler: row.labeler, kind: row.kind, taskId: row.task_id, campaign: row.campaign_id, content: JSON.parse(row.content), signature: row.signature, chainId: ctx.chainId })
  })
  // On-chain reads and the campaign link (src/labeling/chain-routes.ts).
  registerChainRoutes(app, opts.chain, { ctx, who, body })
  registerUxRoutes(app, ctx, { who, body, spam })
  app.all('/api/*', (c) => c.json({ error: { code: 'ENOTFOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404))

  // The web app: static files, and index.html for client-side routes.
  if (existsSync(join(webDir, 'index.html'))) {
    const indexHtml = readFileSync(join(webDir, 'index.html'), 'utf8')
    app.use('/*', serveStatic({ root: webDir }))
    app.get('*', (c) => c.html(indexHtml))
  } else {
    app.get('/', (c) => c.text('instruct3 labeling API (web app not built: run `npm run bench -- label` or the web test, or `npx vite build web`)'))
  }

  let server: Server | null = null
  return {
    app,
    ctx,
    db: ldb,
    async listen(port = 0, host = '127.0.0.1') {
      server = createServer(getRequestListener(app.fetch))
      server.keepAliveTimeout = 65_000
      await new Promise<void>((res, rej) => {
        server!.once('error', rej)
        server!.listen(port, host, () => res())
      })
      listenPort = (server.address() as AddressInfo).port
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${listenPort}`
      log.info('listening', { url, db: ldb.dialect })
      return { url, port: listenPort, server }
    },
    async close() {
      if (server) {
        server.closeAllConnections()
        await new Promise<void>((res) => server!.close(() => res()))
        server = null
      }
      await ctx.verifier?.close()
      await ldb.close()
    },
  }
}

export { sha256 }
