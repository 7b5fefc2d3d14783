/** One Filecoin storage deal as a service reports it (fields vary by service; unknown ones stay undefined). */
export type Deal = { dealId?: string; provider?: string; status?: string; pieceCid?: string }

/**
 * The outcome of an upload: our root CID (what lineage refers to), the CAR that carried it,
 * the root CID the service registered (checked to equal `root`), the CAR shards the service stores
 * (Storacha re-packs a CAR into shards of its own), and the deal status as far as the service knows
 * right after the upload.
 */
export type UploadResult = {
  service: 'storacha' | 'lighthouse'
  root: string
  carCid: string
  carBytes: number
  remoteCid: string
  /** CIDs of the CAR shards the service stored (Storacha), when it reports them. */
  shards?: string[]
  dealStatus: 'pending' | 'active'
  deals: Deal[]
}

export interface FilecoinUploader {
  readonly service: UploadResult['service']
  /** Upload a CAR file whose (single) root is `root`. */
  uploadCar(carFile: string, root: string): Promise<UploadResult>
  /** Deals known for a CID the service returned. */
  dealStatus(cid: string): Promise<{ dealStatus: UploadResult['dealStatus']; deals: Deal[] }>
}
