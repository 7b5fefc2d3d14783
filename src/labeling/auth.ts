import { createHash, randomBytes } from 'node:crypto'
import { getAddress, verifyMessage, type Hex } from 'viem'
import { generateSiweNonce, parseSiweMessage, validateSiweMessage } from 'viem/siwe'
import { ApiError } from './errors.ts'
import type { ErrorCode } from '../util/errors.ts'
import { parseRoles, type LabelingContext, type Principal, type Role } from './context.ts'

const unauthorized = (msg: string, code: ErrorCode = 'EUNAUTHORIZED') => new ApiError(401, msg, { code })
export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex')

/** How far in the future a SIWE issuedAt may be (client clocks run a little fast or slow). */
export const SIWE_CLOCK_SKEW_MS = 5 * 60_000
/** Expired nonces and sessions are deleted at most this often (on the next nonce request). */
export const PURGE_EVERY_MS = 60_000

const lastPurge = new WeakMap<LabelingContext, number>()

/**
 * Delete expired nonces (used or not: an expired nonce is refused anyway, and a replay of a purged one
 * is an unknown nonce) and expired sessions, so neither table grows with traffic. Returns the counts.
 */
export async function purgeExpired(ctx: LabelingContext): Promise<{ nonces: number; sessions: number }> {
  const now = ctx.now()
  lastPurge.set(ctx, now)
  const n = await ctx.db.deleteFrom('nonces').where('expires_at', '<=', now).executeTakeFirst()
  const s = await ctx.db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst()
  return { nonces: Number(n.numDeletedRows), sessions: Number(s.numDeletedRows) }
}

/** Issue a single-use SIWE nonce (stored, expires after nonceTtlMs); purges expired rows now and then. */
export async function issueNonce(ctx: LabelingContext): Promise<{ nonce: string; expiresAt: number }> {
  if (ctx.now() - (lastPurge.get(ctx) ?? -Infinity) >= PURGE_EVERY_MS) await purgeExpired(ctx)
  const nonce = generateSiweNonce()
  const expiresAt = ctx.now() + ctx.nonceTtlMs
  await ctx.db.insertInto('nonces').values({ nonce, expires_at: expiresAt, used_at: null }).execute()
  return { nonce, expiresAt }
}

export type SignInResult = { token: string; principal: Principal; expiresAt: number }

/**
 * Sign-In with Ethereum (EIP-4361): the message must be bound to this server's domain (and URI
 * origin) and chain id, be issued within the nonce lifetime (clock skew allowed), carry a nonce we
 * issued that is unused and unexpired, be inside its own
 * notBefore/expirationTime window, and be signed by the address it names. The nonce is consumed
 * atomically (a conditional UPDATE), so a replayed message fails even under concurrency.
 */
export async function signIn(ctx: LabelingContext, input: { message: unknown; signature: unknown }, expect: { domain: string; origins: string[] }): Promise<SignInResult> {
  if (typeof input.message !== 'string' || input.message.length > 4000) throw new ApiError(400, 'message must be an EIP-4361 string', { details: { field: 'message' } })
  if (typeof input.signature !== 'string' || !/^0x[0-9a-fA-F]+$/.test(input.signature)) throw new ApiError(400, 'signature must be 0x-hex', { details: { field: 'signature' } })
  const msg = parseSiweMessage(input.message)
  if (!msg.address || !msg.nonce || !msg.domain || !msg.uri) throw unauthorized('not an EIP-4361 message (address, domain, uri and nonce are required)', 'ESIWE')
  if (msg.domain !== expect.domain) throw unauthorized(`SIWE domain ${JSON.stringify(msg.domain)} does not match this server (${expect.domain})`, 'ESIWEDOMAIN')
  let uriOrigin = ''
  try {
    uriOrigin = new URL(msg.uri).origin
  } catch {}
  if (!expect.origins.includes(uriOrigin)) throw unauthorized(`SIWE uri ${JSON.stringify(msg.uri)} is not on this server's origin (${expect.origins.join(' or ')})`, 'ESIWEDOMAIN')
  if (msg.chainId !== ctx.chainId) throw unauthorized(`SIWE message is for chain ${msg.chainId ?? '(none)'}; this server signs in on chain ${ctx.chainId}`, 'ESIWECHAIN')
  const now = ctx.now()
  // Freshness: a message must say when it was issued, no earlier than a nonce lives and not from the future.
  const issued = msg.issuedAt?.getTime()
  if (issued === undefined || Number.isNaN(issued)) throw unauthorized('SIWE message has no valid "Issued At" time', 'ESIWESTALE')
  if (issued < now - ctx.nonceTtlMs || issued > now + SIWE_CLOCK_SKEW_MS)
    throw unauthorized(`SIWE message was issued at ${msg.issuedAt!.toISOString()}; it must be issued within the last ${Math.round(ctx.nonceTtlMs / 60_000)} minutes (check the clock)`, 'ESIWESTALE')
  if (!validateSiweMessage({ message: msg, domain: expect.domain, time: new Date(now) })) throw unauthorized('SIWE message is expired or not yet valid', 'ESIWEEXPIRED')
  const ok = await verifyMessage({ address: msg.address, message: input.message, signature: input.signature as Hex }).catch(() => false)
  if (!ok) throw unauthorized('SIWE signature does not match the address in the message', 'EBADSIG')
  const used = await ctx.db
    .updateTable('nonces')
    .set({ used_at: now })
    .where('nonce', '=', msg.nonce)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst()
  if (Number(used.numUpdatedRows) !== 1) {
    const row = await ctx.db.selectFrom('nonces').select(['used_at', 'expires_at']).where('nonce', '=', msg.nonce).executeTakeFirst()
    if (!row) throw unauthorized('unknown SIWE nonce (ask /api/auth/nonce for one)', 'ENONCE')
    if (row.used_at !== null) throw unauthorized('SIWE nonce already used (replayed sign-in)', 'ENONCEREPLAY')
    throw unauthorized('SIWE nonce expired', 'ENONCEEXPIRED')
  }
  const address = msg.address.toLowerCase() as `0x${string}`
  const roles = await ensureUser(ctx, address)
  const token = randomBytes(32).toString('base64url')
  let expiresAt = now + ctx.sessionTtlMs
  if (msg.expirationTime) expiresAt = Math.min(expiresAt, msg.expirationTime.getTime())
  await ctx.db.insertInto('sessions').values({ token_hash: sha256(token), address, expires_at: expiresAt, created_at: now }).execute()
  return { token, principal: { address, roles }, expiresAt }
}

async function ensureUser(ctx: LabelingContext, address: string): Promise<Role[]> {
  const want = new Set<Role>(['labeler'])
  if (ctx.openRoles || ctx.requesters.has(address)) want.add('requester')
  if (ctx.openRoles || ctx.reviewers.has(address)) want.add('reviewer')
  const row = await ctx.db.selectFrom('users').select('roles').where('address', '=', address).executeTakeFirst()
  if (row) {
    for (const r of parseRoles(row.roles)) want.add(r)
    const roles = [...want].sort().join(',')
    if (roles !== row.roles) await ctx.db.updateTable('users').set({ roles }).where('address', '=', address).execute()
    return parseRoles(roles)
  }
  const roles = [...want].sort().join(',')
  await ctx.db.insertInto('users').values({ address, roles, created_at: ctx.now() }).onConflict((oc) => oc.column('address').doNothing()).execute()
  return parseRoles(roles)
}

/** The signed-in principal for a session cookie value, or a 401 saying why not. */
export async function authenticate(ctx: LabelingContext, token: string | undefined): Promise<Principal> {
  if (!token) throw unauthorized('not signed in (no session cookie); sign in with Ethereum first')
  const now = ctx.now()
  const key = sha256(token)
  // A short in-process cache saves a query per request; expiry is still checked on every request,
  // sign-out and role grants drop entries, and entries are re-read from the DB after 5 s.
  const hit = ctx.sessionCache?.get(key)
  if (hit && hit.until > now) {
    if (hit.expiresAt <= now) throw unauthorized('session expired; sign in again', 'ESESSIONEXPIRED')
    return hit.p
  }
  const row = await ctx.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.address', 's.address')
    .select(['s.address', 's.expires_at', 'u.roles'])
    .where('s.token_hash', '=', key)
    .executeTakeFirst()
  if (!row) throw unauthorized('unknown session; sign in again')
  if (row.expires_at <= now) throw unauthorized('session expired; sign in again', 'ESESSIONEXPIRED')
  const p: Principal = { address: row.address as `0x${string}`, roles: parseRoles(row.roles) }
  if (ctx.sessionCache) {
    if (ctx.sessionCache.size > 50_000) ctx.sessionCache.clear()
    ctx.sessionCache.set(key, { p, expiresAt: row.expires_at, until: now + 5000 })
  }
  return p
}

export async function signOut(ctx: LabelingContext, token: string | undefined): Promise<void> {
  if (!token) return
  ctx.sessionCache?.delete(sha256(token))
  await ctx.db.deleteFrom('sessions').where('token_hash', '=', sha256(token)).execute()
}

export function requireRole(p: Principal, role: Role): void {
  if (!p.roles.includes(role)) throw new ApiError(403, `this needs the ${role} role (you have: ${p.roles.join(', ')})`, { code: 'EFORBIDDEN' })
}

/** Grant roles (by a requester). */
export async function grantRoles(ctx: LabelingContext, address: string, roles: Role[]): Promise<Role[]> {
  const a = getAddress(address).toLowerCase()
  const row = await ctx.db.selectFrom('users').select('roles').where('address', '=', a).executeTakeFirst()
  const set = new Set<Role>([...(row ? parseRoles(row.roles) : ['labeler' as Role]), ...roles])
  const s = [...set].sort().join(',')
  ctx.sessionCache?.clear()
  if (row) await ctx.db.updateTable('users').set({ roles: s }).where('address', '=', a).execute()
  else await ctx.db.insertInto('users').values({ address: a, roles: s, created_at: ctx.now() }).execute()
  return parseRoles(s)
}
