import { stringToHex, type Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { labelTypedData } from '../../src/labeling/typed.ts'

/** What the app needs from a wallet: an address, EIP-191 personal_sign (SIWE) and EIP-712 signing. */
export type Wallet = {
  kind: 'injected' | 'dev'
  address: Hex
  signMessage(a: { message: string }): Promise<Hex>
  signTypedData(td: ReturnType<typeof labelTypedData>): Promise<Hex>
}

type Eip1193 = { request(a: { method: string; params?: unknown[] }): Promise<unknown> }
declare global {
  interface Window {
    ethereum?: Eip1193
  }
}

export const hasInjected = () => typeof window !== 'undefined' && !!window.ethereum

/** An EIP-1193 injected wallet (MetaMask, Rabby, ... or the test wallet). */
export async function connectInjected(): Promise<Wallet> {
  const eth = window.ethereum
  if (!eth) throw new Error('no injected wallet (window.ethereum) found')
  const accounts = (await eth.request({ method: 'eth_requestAccounts' })) as string[]
  if (!accounts?.length) throw new Error('the wallet returned no account')
  const address = accounts[0] as Hex
  return {
    kind: 'injected',
    address,
    signMessage: async ({ message }) => (await eth.request({ method: 'personal_sign', params: [stringToHex(message), address] })) as Hex,
    signTypedData: async (td) => {
      // eth_signTypedData_v4 wants JSON with the EIP712Domain type spelled out and no bigints.
      const json = JSON.stringify({
        types: { EIP712Domain: [{ name: 'name', type: 'string' }, { name: 'version', type: 'string' }, { name: 'chainId', type: 'uint256' }], ...td.types },
        domain: td.domain,
        primaryType: td.primaryType,
        // uint256 fields (taskId, guidelinesVersion) travel as decimal strings.
        message: Object.fromEntries(Object.entries(td.message).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])),
      })
      return (await eth.request({ method: 'eth_signTypedData_v4', params: [address, json] })) as Hex
    },
  }
}

/** The embedded demo's local key: generated once, kept in this browser's localStorage. Not for real value. */
export function connectDevKey(): Wallet {
  let pk = localStorage.getItem('i3-dev-key') as Hex | null
  if (!pk) {
    pk = generatePrivateKey()
    localStorage.setItem('i3-dev-key', pk)
  }
  const account = privateKeyToAccount(pk)
  return {
    kind: 'dev',
    address: account.address,
    signMessage: ({ message }) => account.signMessage({ message }),
    signTypedData: (td) => account.signTypedData(td),
  }
}
