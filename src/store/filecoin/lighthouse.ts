import { openAsBlob } from 'node:fs'
import { basename } from 'node:path'
import { Instruct3Error } from '../../util/errors.ts'
import { carCid } from './car-cid.ts'
import { request, requireEnv } from './http.ts'
import type { Deal, FilecoinUploader, UploadResult } from './types.ts'

export type LighthouseInit = {
  apiKey: string
  /** Default https://upload.lighthouse.storage (file uploads). */
  uploadUrl?: string
  /** Default https://api.lighthouse.storage (deal status). */
  apiUrl?: string
}

/** LIGHTHOUSE_API_KEY, optional LIGHTHOUSE_UPLOAD_URL, LIGHTHOUSE_API_URL. */
export function lighthouseFromEnv(env: NodeJS.ProcessEnv = process.env): LighthouseInit {
  return { apiKey: requireEnv(env, 'LIGHTHOUSE_API_KEY', 'lighthouse'), uploadUrl: env.LIGHTHOUSE_UPLOAD_URL, apiUrl: env.LIGHTHOUSE_API_URL }
}

/**
 * Lighthouse's documented HTTP API (what @lighthouse-web3/sdk calls):
 * `POST {upload}/api/v0/add?cid-version=1` with `Authorization: Bearer <key>` and a multipart `file`
 * answers `{Name, Hash, Size}`; `GET {api}/api/lighthouse/deal_status?cid=<Hash>` lists deals.
 * We upload the CAR as the file (streamed from disk): Filecoin then holds our exact DAG, and the Hash
 * Lighthouse answers is the CID of that CAR file as Lighthouse chunked it - kept as `remoteCid`.
 */
export function createLighthouseUploader(init: LighthouseInit): FilecoinUploader {
  const uploadUrl = (init.uploadUrl ?? 'https://upload.lighthouse.storage').replace(/\/$/, '')
  const apiUrl = (init.apiUrl ?? 'https://api.lighthouse.storage').replace(/\/$/, '')
  const auth = { Authorization: `Bearer ${init.apiKey}` }

  const dealStatus = async (cid: string) => {
    const res = await request('lighthouse', `${apiUrl}/api/lighthouse/deal_status?cid=${encodeURIComponent(cid)}`, { headers: auth })
    const body = (await res.json().catch(() => null)) as unknown
    const list = Array.isArray(body) ? body : Array.isArray((body as { data?: unknown })?.data) ? ((body as { data: unknown[] }).data) : []
    const deals: Deal[] = list.map((d) => {
      const r = d as Record<string, unknown>
      const str = (v: unknown) => (v === undefined || v === null || v === '' ? undefined : String(v))
      return {
        dealId: str(r.chainDealID ?? r.dealId ?? r.dealID),
        provider: str(r.storageProvider ?? r.miner),
        status: str(r.dealStatus ?? r.status),
        pieceCid: str(r.pieceCID ?? r.pieceCid),
      }
    })
    const active = deals.some((d) => d.dealId !== undefined && d.dealId !== '0' && !/fail|expired|slash/i.test(d.status ?? ''))
    return { dealStatus: active ? ('active' as const) : ('pending' as const), deals }
  }

  return {
    service: 'lighthouse',
    async uploadCar(carFile, root): Promise<UploadResult> {
      const { cid, size } = await carCid(carFile)
      const form = new FormData()
      form.set('file', await openAsBlob(carFile), basename(carFile))
      const res = await request('lighthouse', `${uploadUrl}/api/v0/add?cid-version=1`, { method: 'POST', headers: auth, body: form, timeoutMs: 3_600_000 })
      const body = (await res.json().catch(() => null)) as { Hash?: string; data?: { Hash?: string } } | null
      const hash = body?.Hash ?? body?.data?.Hash
      if (!hash) throw new Instruct3Error('lighthouse: upload answered without a Hash', { code: 'EUPLOAD' })
      const status = await dealStatus(hash)
      return { service: 'lighthouse', root, carCid: cid.toString(), carBytes: size, remoteCid: hash, ...status }
    },
    dealStatus,
  }
}
