// The user's wallet as dapps use it: an EIP-1193 provider injected as window.ethereum, wrapped in
// viem's wallet and public clients (custom transport), so every transaction is encoded by viem from
// the contracts' ABIs and signed in the wallet. The server never sees a key.
import { createPublicClient, createWalletClient, custom, defineChain, getAddress, type Address, type Chain, type PublicClient, type WalletClient, type Transport, type Account } from 'viem'
import type { ChainInfo } from '../../../src/chain/app-reads.ts'

type Eip1193 = { request(a: { method: string; params?: unknown }): Promise<unknown> }

export type WalletClients = {
  chain: Chain
  account: Address
  wallet: WalletClient<Transport, Chain, Account>
  /** Reads and receipts go through the same wallet provider (after the chain check). */
  publicClient: PublicClient<Transport, Chain>
}

/** The chain the deployment lives on, as viem and wallet_addEthereumChain want it. */
export function chainOf(info: ChainInfo): Chain {
  return defineChain({
    id: info.chainId,
    name: info.chainId === 31337 ? 'Anvil (instruct3 local)' : `instruct3 chain ${info.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [info.rpcUrl] } },
  })
}

export function injectedProvider(): Eip1193 | null {
  return typeof window !== 'undefined' && window.ethereum ? (window.ethereum as Eip1193) : null
}

/**
 * viem clients on the injected wallet for the signed-in address. Fails with a plain sentence when
 * there is no wallet or its active account is not the one signed in (a transaction would come from
 * another account than the one the labels and the session belong to).
 */
export async function walletClients(info: ChainInfo, signedIn: string): Promise<WalletClients> {
  const eth = injectedProvider()
  if (!eth) throw new Error('on-chain actions need a browser wallet (window.ethereum); the local dev key cannot send transactions')
  const chain = chainOf(info)
  const transport = custom(eth)
  const accounts = (await eth.request({ method: 'eth_accounts' })) as string[]
  const account = accounts?.[0] ? getAddress(accounts[0]) : null
  if (!account) throw new Error('the wallet has no connected account: connect it again')
  if (account !== getAddress(signedIn)) throw new Error(`the wallet's active account ${account} is not the signed-in ${getAddress(signedIn)}: switch accounts in the wallet`)
  const wallet = createWalletClient({ account, chain, transport })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 250 })
  return { chain, account, wallet, publicClient }
}

/** The chain id the wallet is on now. */
export async function walletChainId(): Promise<number | null> {
  const eth = injectedProvider()
  if (!eth) return null
  return Number(BigInt((await eth.request({ method: 'eth_chainId' })) as string))
}

/** Does any error in `err`'s cause chain carry this EIP-1193 / JSON-RPC code? */
export function hasCode(err: unknown, code: number): boolean {
  for (let e: any = err, i = 0; e && i < 10; e = e.cause, i++) if (e.code === code) return true
  return false
}

/**
 * Make the wallet use the deployment's chain: wallet_switchEthereumChain, and when the wallet does
 * not know the chain (error 4902), wallet_addEthereumChain with its RPC URL, then switch again.
 */
export async function ensureChain(w: Pick<WalletClients, 'wallet' | 'chain'>): Promise<void> {
  const current = await w.wallet.getChainId()
  if (current === w.chain.id) return
  try {
    await w.wallet.switchChain({ id: w.chain.id })
  } catch (err) {
    if (!hasCode(err, 4902)) throw err
    await w.wallet.addChain({ chain: w.chain })
    await w.wallet.switchChain({ id: w.chain.id })
  }
  const after = await w.wallet.getChainId()
  if (after !== w.chain.id) throw new Error(`the wallet is still on chain ${after}, not ${w.chain.id}`)
}
