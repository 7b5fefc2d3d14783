import { erc20Abi, formatUnits, type Address } from 'viem'
import { createChainContext } from './context.ts'
import type { Deployment } from './deployment.ts'
import { getLabelerOnchainStatus } from './status.ts'

/**
 * A lookup the labeling service's `/api/me/stats` can take as its `rewards` option (the web app
 * shows it): earnings with the vesting stake, and badge lines, read from the chain.
 * Shape: (address) => { earnings: string | null; badges: string[] }.
 */
export function createRewardsLookup(deployment: Deployment) {
  const ctx = createChainContext({ deployment })
  const symbols = new Map<string, { symbol: string; decimals: number }>()
  const tokenInfo = async (token: Address) => {
    let t = symbols.get(token)
    if (!t) {
      const [symbol, decimals] = await Promise.all([
        ctx.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'symbol' }),
        ctx.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
      ])
      t = { symbol, decimals }
      symbols.set(token, t)
    }
    return t
  }
  return async (address: string): Promise<{ earnings: string | null; badges: string[] }> => {
    const s = await getLabelerOnchainStatus(address, ctx)
    const parts: string[] = []
    for (const [token, earned] of Object.entries(s.earnings)) {
      const { symbol, decimals } = await tokenInfo(token as Address)
      parts.push(`${formatUnits(BigInt(earned), decimals)} ${symbol} (vesting ${formatUnits(BigInt(s.vestingStake[token] ?? '0'), decimals)})`)
    }
    const badges = s.badge ? [`${s.badge.levelName} (level ${s.badge.level}) ${s.badge.tokenURI}`] : []
    return { earnings: parts.length ? parts.join(', ') : null, badges }
  }
}
