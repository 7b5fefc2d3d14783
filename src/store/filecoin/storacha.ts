import { openAsBlob } from 'node:fs'
import { Instruct3Error } from '../../util/errors.ts'
import { carCid } from './car-cid.ts'
import { request, requireEnv } from './http.ts'
import type { FilecoinUploader, UploadResult } from './types.ts'

export type StorachaInit = {
  /** The space DID the tokens were generated for (`storacha bridge generate-tokens <space-did>`). */
  space: string
  /** X-Auth-Secret header value. */
  secret: string
  /** Authorization header value (a base64 CAR holding the UCAN delegation). */
  authorization: string
  /** Default https://up.storacha.network/bridge */
  bridgeUrl?: string
}

/** STORACHA_SPACE_DID, STORACHA_AUTH_SECRET, STORACHA_AUTH_TOKEN, optional STORACHA_BRIDGE_URL. */
export function storachaFromEnv(env: NodeJS.ProcessEnv = process.env): StorachaInit {
  const service = 'storacha'
  return {
    space: requireEnv(env, 'STORACHA_SPACE_DID', service),
    secret: requireEnv(env, 'STORACHA_AUTH_SECRET', service),
    authorization: requireEnv(env, 'STORACHA_AUTH_TOKEN', service),
    bridgeUrl: env.STORACHA_BRIDGE_URL,
  }
}

type Receipt = { data?: { out?: { ok?: Record<string, unknown>; error?: { name?: string; message?: string } } } }

/**
 * Storacha through its UCAN-HTTP bridge (storacha/specs w3-ucan-bridge.md and the "HTTP bridge" how-to):
 * 1. `store/add {link: <CAR CID>, size}` registers the CAR shard; the receipt says `status: "upload"` with a
 *    presigned `url` + `headers` (PUT the CAR there) or `status: "done"` when the service already has it;
 * 2. `upload/add {root, shards: [<CAR CID>]}` links our root CID to the shard.
 * Storacha aggregates uploads into Filecoin deals later, so right after an upload the deal status is "pending".
 */
export function createStorachaUploader(init: StorachaInit): FilecoinUploader {
  const bridge = init.bridgeUrl ?? 'https://up.storacha.network/bridge'
  const invoke = async (ability: string, args: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await request('storacha', bridge, {
      method: 'POST',
      headers: { 'X-Auth-Secret': init.secret, Authorization: init.authorization, 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ tasks: [[ability, init.space, args]] }),
    })
    let receipts: Receipt[]
    try {
      receipts = (await res.json()) as Receipt[]
    } catch (cause) {
      throw new Instruct3Error(`storacha: ${ability} answered with something that is not JSON`, { code: 'EUPLOAD', cause })
    }
    const out = Array.isArray(receipts) ? receipts[0]?.data?.out : undefined
    if (!out) throw new Instruct3Error(`storacha: ${ability} returned no receipt`, { code: 'EUPLOAD' })
    if (out.error || !out.ok) throw new Instruct3Error(`storacha: ${ability} failed: ${out.error?.name ?? 'error'}: ${out.error?.message ?? 'no result'}`, { code: 'EUPLOAD', details: { field: ability } })
    return out.ok
  }

  return {
    service: 'storacha',
    async uploadCar(carFile, root): Promise<UploadResult> {
      const { cid, size } = await carCid(carFile)
      const link = { '/': cid.toString() }
      const added = await invoke('store/add', { link, size })
      if (added.status === 'upload') {
        if (typeof added.url !== 'string') throw new Instruct3Error('storacha: store/add asked for an upload but gave no url', { code: 'EUPLOAD' })
        // fetch sets content-length itself from the file (and refuses a caller-supplied one)
        const headers = Object.fromEntries(Object.entries((added.headers ?? {}) as Record<string, string>).filter(([k]) => k.toLowerCase() !== 'content-length'))
        await request('storacha', added.url, { method: 'PUT', headers, body: await openAsBlob(carFile), timeoutMs: 3_600_000 })
      } else if (added.status !== 'done') {
        throw new Instruct3Error(`storacha: unexpected store/add status "${String(added.status)}"`, { code: 'EUPLOAD' })
      }
      const up = await invoke('upload/add', { root: { '/': root }, shards: [link] })
      const upRoot = (up.root as { '/'?: string } | undefined)?.['/']
      if (upRoot !== root) throw new Instruct3Error(`storacha: upload/add registered root ${upRoot} instead of ${root}`, { code: 'EUPLOAD' })
      return { service: 'storacha', root, carCid: cid.toString(), carBytes: size, remoteCid: upRoot, dealStatus: 'pending', deals: [] }
    },
    async dealStatus() {
      // deal info needs the shard's piece CID (filecoin/info); until aggregation has happened there is none
      return { dealStatus: 'pending', deals: [] }
    },
  }
}
