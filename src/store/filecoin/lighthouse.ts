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
 * Lighthouse, with the requests @lighthouse-web3/sdk 0.4.7 makes (dist/Lighthouse/upload/car/node.js, uploadCAR):
 * `POST {upload}/api/v0/dag/import` with `Authorization: Bearer <key>` and the CAR as multipart field `file`
 * (filename = the CAR's name, which the SDK requires to end in .car) answers `{Name, Hash, Size}`; Lighthouse
 * imports the CAR's blocks, so Hash is our root CID and deals and the gateway know that CID.
 * (Our old client posted the CAR to /api/v0/add, which stores it as a plain file under the CAR file's own CID.)
 * Deals: `GET {api}/api/lighthouse/deal_status?cid=<root>` (dist/Lighthouse/dealStatus).
 *
 * Why not the SDK itself: its endpoints are a module-level constant (lighthouse.config.js), so it cannot be
 * pointed at a test stand-in without patching the module; its index pulls in ethers, bls-eth-wasm and kavach for
 * features we do not use; and it replaces the service's error body with "Request failed with status code N".
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
      // the SDK refuses a file without the .car extension; the name is what Lighthouse lists the upload under
      const name = basename(carFile).toLowerCase().endsWith('.car') ? basename(carFile) : `${basename(carFile)}.car`
      form.set('file', await openAsBlob(carFile), name)
      const res = await request('lighthouse', `${uploadUrl}/api/v0/dag/import`, { method: 'POST', headers: auth, body: form, timeoutMs: 7_200_000 })
      const body = (await res.json().catch(() => null)) as { Hash?: string; data?: { Hash?: string }; Root?: { Cid?: { '/'?: string } } } | null
      // {Name, Hash, Size} per the SDK's IFileUploadedResponse; Kubo's own dag/import shape {Root: {Cid}} accepted too
      const hash = body?.Hash ?? body?.data?.Hash ?? body?.Root?.Cid?.['/']
      if (!hash) throw new Instruct3Error('lighthouse: dag/import answered without a Hash', { code: 'EUPLOAD' })
      if (hash !== root) throw new Instruct3Error(`lighthouse: dag/import registered root ${hash}, not the CAR's root ${root}`, { code: 'EUPLOAD', details: { cid: root } })
      const status = await dealStatus(hash)
      return { service: 'lighthouse', root, carCid: cid.toString(), carBytes: size, remoteCid: hash, ...status }
    },
    dealStatus,
  }
}
