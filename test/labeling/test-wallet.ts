// An EIP-1193 wallet injected into a Chromium page as window.ethereum, backed by a viem local account in
// this Node process (page.exposeFunction). It behaves as browser wallets do where the app depends on it:
// accounts, personal_sign, eth_signTypedData_v4, eth_sendTransaction (signed here, sent to anvil), a
// current chain that can be wrong, wallet_switchEthereumChain failing with 4902 for a chain it does not
// know until wallet_addEthereumChain, and every other method passed through to the node.
import { createWalletClient, http, toHex, type Hex, type LocalAccount } from 'viem'
import type { Page } from 'playwright-core'
import { chainFor } from '../../src/chain/client.ts'

export type TestWalletOptions = {
  account: LocalAccount
  rpcUrl: string
  /** The deployment's chain (anvil: 31337). */
  chainId: number
  /** Chain the wallet is on at the start (default chainId); a wallet that starts elsewhere does not know chainId yet. */
  startChainId?: number
}

export type TestWallet = {
  /** Every method the page called, in order. */
  calls: string[]
  /** eth_sendTransaction requests: {to, data} and the hash sent. */
  sent: Array<{ to: Hex; data: Hex; hash: Hex }>
  chainId(): number
  added: Array<{ chainId: number; rpcUrls: string[] }>
}

type RpcError = { code: number; message: string; data?: unknown }

export async function injectTestWallet(page: Page, opts: TestWalletOptions): Promise<TestWallet> {
  let current = opts.startChainId ?? opts.chainId
  const known = new Set<number>([1, current])
  const w: TestWallet = { calls: [], sent: [], chainId: () => current, added: [] }
  const signer = createWalletClient({ account: opts.account, chain: chainFor(opts.chainId, opts.rpcUrl), transport: http(opts.rpcUrl, { retryCount: 0 }) })
  let rpcId = 0

  const forward = async (method: string, params: unknown[]): Promise<{ result?: unknown; error?: RpcError }> => {
    if (current !== opts.chainId) return { error: { code: -32603, message: `test wallet: chain ${current} is not reachable (only ${opts.chainId})` } }
    const res = await fetch(opts.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) })
    const j = (await res.json()) as { result?: unknown; error?: RpcError }
    return j.error ? { error: j.error } : { result: j.result }
  }

  const handle = async (method: string, params: any[]): Promise<{ result?: unknown; error?: RpcError }> => {
    switch (method) {
      case 'eth_requestAccounts':
      case 'eth_accounts':
        return { result: [opts.account.address] }
      case 'eth_chainId':
        return { result: toHex(current) }
      case 'personal_sign':
        return { result: await opts.account.signMessage!({ message: { raw: params[0] as Hex } }) }
      case 'eth_signTypedData_v4': {
        const td = JSON.parse(params[1])
        const { EIP712Domain: _, ...types } = td.types
        return { result: await opts.account.signTypedData!({ domain: td.domain, types, primaryType: td.primaryType, message: { ...td.message, taskId: BigInt(td.message.taskId) } }) }
      }
      case 'wallet_switchEthereumChain': {
        const id = Number(BigInt(params[0].chainId))
        if (!known.has(id)) return { error: { code: 4902, message: `Unrecognized chain ID ${params[0].chainId}. Try adding the chain using wallet_addEthereumChain first.` } }
        current = id
        return { result: null }
      }
      case 'wallet_addEthereumChain': {
        const id = Number(BigInt(params[0].chainId))
        w.added.push({ chainId: id, rpcUrls: params[0].rpcUrls })
        known.add(id)
        return { result: null }
      }
      case 'eth_sendTransaction': {
        const tx = params[0] as { from: Hex; to: Hex; data: Hex; value?: Hex; gas?: Hex }
        if (current !== opts.chainId) return { error: { code: -32603, message: `test wallet: on chain ${current}, refusing to send` } }
        if (tx.from && tx.from.toLowerCase() !== opts.account.address.toLowerCase()) return { error: { code: 4100, message: 'unknown from address' } }
        const hash = await signer.sendTransaction({ to: tx.to, data: tx.data, ...(tx.value ? { value: BigInt(tx.value) } : {}), ...(tx.gas ? { gas: BigInt(tx.gas) } : {}) })
        w.sent.push({ to: tx.to, data: tx.data, hash })
        return { result: hash }
      }
      default:
        return forward(method, params)
    }
  }

  await page.exposeFunction('__i3wallet', async (method: string, paramsJson: string) => {
    w.calls.push(method)
    try {
      return JSON.stringify(await handle(method, JSON.parse(paramsJson) as any[]))
    } catch (err) {
      // viem errors carry the node's revert data in their cause chain; pass it on as a JSON-RPC error would.
      let data: unknown
      for (let e: any = err; e && data === undefined; e = e.cause) if (typeof e.data === 'string') data = e.data
      return JSON.stringify({ error: { code: -32603, message: (err as Error).message.split('\n')[0], ...(data ? { data } : {}) } })
    }
  })
  await page.addInitScript(() => {
    const listeners = new Map<string, Set<(x: unknown) => void>>()
    const emit = (ev: string, x: unknown) => listeners.get(ev)?.forEach((f) => f(x))
    ;(window as any).ethereum = {
      isInstruct3TestWallet: true,
      on: (ev: string, f: (x: unknown) => void) => void (listeners.get(ev) ?? listeners.set(ev, new Set()).get(ev)!).add(f),
      removeListener: (ev: string, f: (x: unknown) => void) => void listeners.get(ev)?.delete(f),
      request: async ({ method, params }: { method: string; params?: unknown[] }) => {
        const r = JSON.parse(await (window as any).__i3wallet(method, JSON.stringify(params ?? [])))
        if (r.error) throw Object.assign(new Error(r.error.message), r.error)
        if (method === 'wallet_switchEthereumChain') emit('chainChanged', (params as any)[0].chainId)
        return r.result
      },
    }
  })
  return w
}
