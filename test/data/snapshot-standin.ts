/**
 * TEST CODE ONLY. A stand-in for the Snapshot hub's GraphQL endpoint (hub.snapshot.org/graphql), which cannot be
 * reached from here. It follows snapshot-labs/snapshot-hub at commit de4c4ff8 (2026-03-09):
 * - the schema is the hub's own `src/graphql/schema.gql`, vendored unchanged in
 *   test/fixtures/services/snapshot-hub-schema.gql (MIT, see the README there), so every query our client sends is
 *   parsed and validated by graphql-js against the real types (e.g. `snapshot: Int`, `spaces(first: Int!, skip: Int!)`);
 * - argument limits are `checkLimits` from `src/graphql/helpers.ts` (ARG_LIMITS): first <= 1000, skip <= 5000
 *   (spaces: skip <= 100000), every `*_in` list <= 100 entries (proposals.space_in <= 10000), with the hub's
 *   error text "The `<arg>` argument must not be greater than <limit>" in a GraphQL `errors` entry;
 * - a rate limit answers HTTP 429 (the hub's rate limiter; the exact body is not in the hub's source, so this
 *   one is a guess the client does not depend on).
 * The data are in memory; filters implement only the `where` keys our client sends.
 */
import { createServer, type Server } from 'node:http'
import { readFileSync } from 'node:fs'
import { buildSchema, graphql, type GraphQLSchema } from 'graphql'

export const SNAPSHOT_SCHEMA_FILE = new URL('../fixtures/services/snapshot-hub-schema.gql', import.meta.url)

let cached: GraphQLSchema | undefined
/** The hub's schema, parsed once. */
export function snapshotSchema(): GraphQLSchema {
  cached ??= buildSchema(readFileSync(SNAPSHOT_SCHEMA_FILE, 'utf8'))
  return cached
}

/** snapshot-hub helpers.ts ARG_LIMITS, per query type (default merged with the type's own). */
const ARG_LIMITS: Record<string, Record<string, number>> = {
  default: { first: 1000, skip: 5000, '*_in': 100 },
  proposals: { space_in: 10000 },
  spaces: { first: 1000, skip: 100000 },
}

/** helpers.ts checkLimits, line for line; `overrides` lets a test shrink the caps (e.g. skip 10 instead of 5000). */
export function checkLimits(args: { first?: number; skip?: number; where?: Record<string, unknown> }, type: string, overrides: Record<string, number> = {}): void {
  const where = args.where ?? {}
  const typeLimits: Record<string, number> = { ...ARG_LIMITS.default, ...(ARG_LIMITS[type] ?? {}), ...overrides }
  for (const key of Object.keys(where)) if (key.endsWith('_in') && !(key in typeLimits)) typeLimits[key] = typeLimits['*_in']
  for (const key in typeLimits) {
    const limit = typeLimits[key]
    const value = key === 'first' || key === 'skip' ? (args as Record<string, unknown>)[key] : where[key]
    const reached = key.endsWith('_in') ? (Array.isArray(value) && value.length > limit) : typeof value === 'number' && value > limit
    if (reached) throw new Error(`The \`${key}\` argument must not be greater than ${limit}`)
    if ((key === 'first' || key === 'skip') && typeof value === 'number' && value < 0) throw new Error(`The \`${key}\` argument must be positive`)
  }
}

export type Row = Record<string, unknown> & { id: string; created: number }

export type SnapshotStandinOptions = {
  spaces: Row[]
  proposals: Row[]
  votes: Row[]
  /** Answer every Nth request with HTTP 429. */
  rateLimitEvery?: number
  /** Smaller caps than the hub's, so tests reach them with little data (e.g. {skip: 10}). */
  limits?: Record<string, number>
}

export type SnapshotStandin = { url: string; bodies: string[]; server: Server; close(): Promise<void> }

export async function startSnapshotStandin(opts: SnapshotStandinOptions): Promise<SnapshotStandin> {
  const schema = snapshotSchema()
  const filter = (rows: Row[], where: Record<string, unknown> = {}) =>
    rows.filter((r) =>
      Object.entries(where).every(([k, v]) => {
        if (k.endsWith('_in')) {
          const field = k.slice(0, -3)
          const have = field === 'space' || field === 'proposal' ? (r[field] as { id: string } | undefined)?.id : r[field]
          return (v as unknown[]).includes(have)
        }
        if (k === 'created_gte') return r.created >= (v as number)
        if (k === 'created_gt') return r.created > (v as number)
        if (k === 'space' || k === 'proposal') return (r[k] as { id: string } | undefined)?.id === v
        return r[k] === v
      }),
    )
  type Args = { first?: number; skip?: number; where?: Record<string, unknown>; orderBy?: string; orderDirection?: string }
  const page = (type: string, rows: Row[], a: Args) => {
    checkLimits(a, type, opts.limits)
    const sorted = [...filter(rows, a.where)]
    if (a.orderBy === 'created') sorted.sort((x, y) => (x.created - y.created || x.id.localeCompare(y.id, 'en', { numeric: true })) * (a.orderDirection === 'desc' ? -1 : 1))
    return sorted.slice(a.skip ?? 0, (a.skip ?? 0) + (a.first ?? 20))
  }
  const root = {
    spaces: (a: Args) => page('spaces', opts.spaces, a),
    proposals: (a: Args) => page('proposals', opts.proposals, a),
    votes: (a: Args) => page('votes', opts.votes, a),
  }
  let n = 0
  const bodies: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', async () => {
      n++
      if (opts.rateLimitEvery && n % opts.rateLimitEvery === 0) {
        res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: 'too many requests' }] }))
        return
      }
      const { query, variables } = JSON.parse(body)
      bodies.push(body)
      const result = await graphql({ schema, source: query, rootValue: root, variableValues: variables })
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`,
    bodies,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }
}
