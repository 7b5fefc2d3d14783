// The server's cheap chain reads (src/labeling/chain-routes.ts): deployment, campaign terms, positions.
import { api, ApiFailure } from '../api.ts'
import type { ChainCampaignView, ChainInfo, PositionsView } from '../../../src/chain/app-reads.ts'

export type { ChainCampaignView, ChainInfo, PositionsView }

let info: Promise<ChainInfo | null> | null = null

/** The deployment, or null when the server runs without one (404 ENOCHAIN). Fetched once per page load. */
export function chainInfo(): Promise<ChainInfo | null> {
  info ??= api<ChainInfo>('GET', '/api/chain').catch((e) => {
    info = null
    if (e instanceof ApiFailure && e.status === 404) return null
    throw e
  })
  return info
}

export const chainCampaign = (id: string) => api<ChainCampaignView>('GET', `/api/chain/campaigns/${encodeURIComponent(id)}`)
export const myPositions = (fresh = false) => api<PositionsView>('GET', `/api/chain/positions/me${fresh ? '?fresh=1' : ''}`)
export const linkCampaign = (serviceId: string, chainCampaignId: string) => api('POST', `/api/campaigns/${encodeURIComponent(serviceId)}/chain`, { chainCampaignId })

/** A service campaign as /api/campaigns lists it (the fields the chain pages use). */
export type ServiceCampaign = { id: string; name: string; status: string; chain_campaign_id: string | null }
