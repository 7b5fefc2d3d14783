import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Account,
  type Chain,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import { mnemonicToAccount, privateKeyToAccount, type HDAccount } from 'viem/accounts'
import { Instruct3Error } from '../util/errors.ts'

/** Anvil's well-known development mnemonic: its accounts are funded on every fresh anvil. */
export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk'

/**
 * Roles of anvil's dev accounts in instruct3's local setup (documented in docs/chain.md):
 * 0 deployer + requester, 1 oracle (labeling service), 2.. labelers.
 */
export const DEV_ROLES = { deployer: 0, requester: 0, oracle: 1, firstLabeler: 2 } as const

export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index })
}

export function accountFromKey(key: string, field = 'key'): Account {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Instruct3Error('private key must be 0x + 64 hex digits', { code: 'EKEY', details: { field } })
  return privateKeyToAccount(key as `0x${string}`)
}

export type ChainClients = {
  chain: Chain
  publicClient: PublicClient<Transport, Chain>
  /** Present when an account was given. */
  walletClient?: WalletClient<Transport, Chain, Account>
  account?: Account
}

export function chainFor(chainId: number, rpcUrl: string): Chain {
  return defineChain({
    id: chainId,
    name: chainId === 31337 ? 'anvil' : `chain-${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
}

/** viem clients for one RPC endpoint; polling is fast because anvil mines instantly. */
export function createChainClients(opts: { rpcUrl: string; chainId: number; account?: Account }): ChainClients {
  const chain = chainFor(opts.chainId, opts.rpcUrl)
  const transport = http(opts.rpcUrl, { retryCount: 0 })
  const publicClient = createPublicClient({ chain, transport, pollingInterval: 50 })
  if (!opts.account) return { chain, publicClient }
  const walletClient = createWalletClient({ chain, transport, account: opts.account, pollingInterval: 50 })
  return { chain, publicClient, walletClient, account: opts.account }
}
