import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isAddress, type Address } from 'viem'
import { dataDir } from '../util/paths.ts'
import { writeFileAtomicSync } from '../util/atomic.ts'
import { Instruct3Error } from '../util/errors.ts'

/** Where the contracts of one chain live; written by `instruct3 chain up` as JSON. */
export type Deployment = {
  version: 1
  chainId: number
  rpcUrl: string
  escrow: Address
  badge: Address
  /** The local TestToken (null on chains where a real ERC-20 is used). */
  token: Address | null
  owner: Address
  oracle: Address
  blockNumber: string
  deployedAt: string
}

export function deploymentPath(dir?: string): string {
  return join(dataDir(dir), 'chain', 'deployment.json')
}

export function writeDeployment(d: Deployment, path = deploymentPath()): void {
  writeFileAtomicSync(path, JSON.stringify(d, null, 2) + '\n')
}

export function readDeployment(path = deploymentPath()): Deployment {
  if (!existsSync(path)) {
    throw new Instruct3Error('no deployment: run `instruct3 chain up` first (or pass --deployment)', { code: 'ENODEPLOY', details: { file: path } })
  }
  let d: Deployment
  try {
    d = JSON.parse(readFileSync(path, 'utf8')) as Deployment
  } catch (cause) {
    throw new Instruct3Error(`invalid JSON (${(cause as Error).message})`, { code: 'EDEPLOY', details: { file: path }, cause })
  }
  for (const field of ['escrow', 'badge', 'owner', 'oracle'] as const) {
    if (!isAddress(String(d[field]))) throw new Instruct3Error('not an address', { code: 'EDEPLOY', details: { file: path, field } })
  }
  if (typeof d.rpcUrl !== 'string' || !Number.isInteger(d.chainId)) {
    throw new Instruct3Error('rpcUrl and chainId are required', { code: 'EDEPLOY', details: { file: path, field: 'rpcUrl' } })
  }
  return d
}
