/**
 * A client for the Snapshot hub GraphQL API (https://hub.snapshot.org/graphql): spaces, proposals
 * and votes, paginated.
 *
 * Pagination: `first`/`skip` pages ordered by `created` ascending. The hub caps `skip` (5000), so
 * when the next skip would pass `maxSkip` the query re-anchors on `created_gte: <last created>` and
 * starts again at skip 0, dropping the ids already seen at that timestamp: no item is lost or
 * repeated even when many share one `created` second.
 * HTTP 429/5xx and GraphQL rate-limit errors are retried with exponential backoff.
 *
 * The hub's limits (snapshot-hub src/graphql/helpers.ts, ARG_LIMITS): `first` <= 1000, `skip` <= 5000
 * (spaces: 100000), and every `*_in` list <= 100 entries (proposals' `space_in`: 10000); a larger value is
 * answered with the GraphQL error "The `id_in` argument must not be greater than 100". So `spaces(ids)` asks
 * for the ids 100 at a time, and a `space_in` over 10000 is refused here before anything is sent.
 */
import { Instruct3Error } from '../../util/errors.ts'

export type SnapshotSpace = { id: string; name: string | null; about: string | null; network: string | null; symbol: string | null; admins: string[] | null; members: string[] | null }
export type SnapshotProposal = {
  id: string
  author: string
  created: number
  space: { id: string } | null
  network: string
  type: string | null
  title: string
  body: string | null
  discussion: string | null
  choices: string[]
  start: number
  end: number
  /** Block number the voting power was computed at (schema.gql: `snapshot: Int`). */
  snapshot: number | null
  state: string | null
  scores: number[] | null
  scores_total: number | null
  votes: number | null
  quorum: number | null
  link: string | null
}
export type SnapshotVote = { id: string; voter: string; created: number; choice: unknown; vp: number | null; reason: string | null; proposal: { id: string } | null; space: { id: string } }

export type SnapshotClientOptions = { url: string; pageSize?: number; maxSkip?: number; retries?: number; retryDelayMs?: number; apiKey?: string; fetch?: typeof fetch }

export type SnapshotClient = {
  spaces(ids?: string[]): AsyncGenerator<SnapshotSpace>
  proposals(where: { space?: string; space_in?: string[]; state?: string; created_gte?: number }): AsyncGenerator<SnapshotProposal>
  votes(where: { proposal?: string; space?: string; voter?: string }): AsyncGenerator<SnapshotVote>
  /** Number of HTTP requests made (for tests and progress). */
  readonly requests: number
}

/** snapshot-hub ARG_LIMITS['*_in'] (helpers.ts): the most entries any `*_in` list may have. */
export const SNAPSHOT_IN_LIMIT = 100
/** snapshot-hub ARG_LIMITS.proposals.space_in. */
export const SNAPSHOT_SPACE_IN_LIMIT = 10_000

const SPACE_FIELDS = 'id name about network symbol admins members'
const PROPOSAL_FIELDS = 'id author created space { id } network type title body discussion choices start end snapshot state scores scores_total votes quorum link'
const VOTE_FIELDS = 'id voter created choice vp reason proposal { id } space { id }'

export function createSnapshotClient(o: SnapshotClientOptions): SnapshotClient {
  const pageSize = Math.min(o.pageSize ?? 100, 1000)
  const maxSkip = o.maxSkip ?? 5000
  const retries = o.retries ?? 5
  const doFetch = o.fetch ?? fetch
  let requests = 0

  async function query<T>(q: string, variables: Record<string, unknown>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      requests++
      let status = 0
      let body: { data?: T; errors?: Array<{ message: string }> } | undefined
      try {
        const res = await doFetch(o.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(o.apiKey ? { 'x-api-key': o.apiKey } : {}) },
          body: JSON.stringify({ query: q, variables }),
        })
        status = res.status
        body = (await res.json().catch(() => undefined)) as typeof body
      } catch (cause) {
        if (attempt >= retries) throw new Instruct3Error(`Snapshot request failed: ${(cause as Error).message}`, { code: 'ESNAPSHOT', details: { url: o.url }, cause })
      }
      const rateLimited = status === 429 || status >= 500 || body?.errors?.some((e) => /rate|too many/i.test(e.message))
      if (status && !rateLimited) {
        if (body?.errors?.length) throw new Instruct3Error(`Snapshot GraphQL error: ${body.errors.map((e) => e.message).join('; ')}`, { code: 'ESNAPSHOT', details: { url: o.url } })
        if (status !== 200 || !body?.data) throw new Instruct3Error(`Snapshot returned HTTP ${status} without data`, { code: 'ESNAPSHOT', details: { url: o.url } })
        return body.data
      }
      if (attempt >= retries) throw new Instruct3Error(`Snapshot rate limit or server error persisted (HTTP ${status}) after ${retries} retries`, { code: 'ESNAPSHOT', details: { url: o.url } })
      await new Promise((r) => setTimeout(r, (o.retryDelayMs ?? 500) * 2 ** attempt))
    }
  }

  /** Ordered-by-created pagination with re-anchoring past the hub's skip cap (see module comment). */
  async function* paginate<T extends { id: string; created: number }>(field: string, whereType: string, fields: string, where: Record<string, unknown>): AsyncGenerator<T> {
    const q = `query Page($first: Int!, $skip: Int!, $where: ${whereType}) { ${field}(first: $first, skip: $skip, where: $where, orderBy: "created", orderDirection: asc) { ${fields} } }`
    let skip = 0
    let anchor: number | undefined
    let skipIds = new Set<string>()
    let lastCreated = Number.NEGATIVE_INFINITY
    let idsAtLast = new Set<string>()
    for (;;) {
      const w = anchor === undefined ? where : { ...where, created_gte: anchor }
      const page = (await query<Record<string, T[]>>(q, { first: pageSize, skip, where: w }))[field] ?? []
      for (const item of page) {
        if (anchor !== undefined && item.created === anchor && skipIds.has(item.id)) continue // seen before re-anchoring
        if (item.created !== lastCreated) {
          lastCreated = item.created
          idsAtLast = new Set()
        }
        idsAtLast.add(item.id)
        yield item
      }
      if (page.length < pageSize) return
      skip += pageSize
      if (skip > maxSkip) {
        if (anchor === lastCreated) throw new Instruct3Error(`more than ${maxSkip} ${field} share created=${lastCreated}; cannot paginate further`, { code: 'ESNAPSHOT', details: { url: o.url } })
        anchor = lastCreated
        skipIds = new Set(idsAtLast)
        skip = 0
      }
    }
  }

  return {
    get requests() {
      return requests
    },
    async *spaces(ids) {
      // Spaces have no `created` ordering in the public schema: plain skip pages. The hub refuses an `id_in`
      // of more than 100 ids, so a longer list is asked for 100 ids at a time (each batch paged by `first`).
      const q = `query Spaces($first: Int!, $skip: Int!, $where: SpaceWhere) { spaces(first: $first, skip: $skip, where: $where) { ${SPACE_FIELDS} } }`
      const batches: (Record<string, unknown>)[] = []
      if (!ids) batches.push({})
      else for (let i = 0; i < ids.length; i += SNAPSHOT_IN_LIMIT) batches.push({ id_in: ids.slice(i, i + SNAPSHOT_IN_LIMIT) })
      for (const where of batches) {
        for (let skip = 0; skip <= maxSkip; skip += pageSize) {
          const page = (await query<{ spaces: SnapshotSpace[] }>(q, { first: pageSize, skip, where })).spaces ?? []
          yield* page
          if (page.length < pageSize) break
        }
      }
    },
    proposals(where) {
      if ((where.space_in?.length ?? 0) > SNAPSHOT_SPACE_IN_LIMIT) {
        throw new Instruct3Error(`Snapshot: space_in lists ${where.space_in!.length} spaces; the hub accepts at most ${SNAPSHOT_SPACE_IN_LIMIT}`, { code: 'ESNAPSHOT', details: { field: 'space_in' } })
      }
      return paginate<SnapshotProposal>('proposals', 'ProposalWhere', PROPOSAL_FIELDS, where)
    },
    votes(where) {
      return paginate<SnapshotVote>('votes', 'VoteWhere', VOTE_FIELDS, where)
    },
  }
}
