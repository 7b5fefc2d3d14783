import { getAddress, type Account, type Address, type Hex } from 'viem'
import { createChainClients, type ChainClients } from './client.ts'
import { chainError } from './errors.ts'
import type { Deployment } from './deployment.ts'
import {
  labelerBadgeAbi,
  labelerBadgeBytecode,
  labelingEscrowAbi,
  labelingEscrowBytecode,
  testTokenAbi,
  testTokenBytecode,
} from './generated/index.ts'

export type DeployOptions = {
  rpcUrl: string
  /** Pays for and owns the deployment (escrow owner: pause; badge admin: grants issuers). */
  deployer: Account
  /** The labeling service's key: gets the badge ISSUER_ROLE and is a trusted oracle for reputation. */
  oracle: Address
  /** Deploy the local TestToken too (default true). */
  testToken?: boolean
}

/** Deploy LabelingEscrow, LabelerBadge (reading the escrow's stats) and, for local use, TestToken. */
export async function deployContracts(opts: DeployOptions): Promise<Deployment> {
  const probe = createChainClients({ rpcUrl: opts.rpcUrl, chainId: 1 })
  const chainId = await probe.publicClient.getChainId()
  const c = createChainClients({ rpcUrl: opts.rpcUrl, chainId, account: opts.deployer })
  const owner = opts.deployer.address
  const escrow = await deploy(c, 'LabelingEscrow', () =>
    c.walletClient!.deployContract({ abi: labelingEscrowAbi, bytecode: labelingEscrowBytecode, args: [owner] }),
  )
  const badge = await deploy(c, 'LabelerBadge', () =>
    c.walletClient!.deployContract({ abi: labelerBadgeAbi, bytecode: labelerBadgeBytecode, args: [escrow, owner] }),
  )
  try {
    const role = await c.publicClient.readContract({ address: badge, abi: labelerBadgeAbi, functionName: 'ISSUER_ROLE' })
    const hash = await c.walletClient!.writeContract({ address: badge, abi: labelerBadgeAbi, functionName: 'grantRole', args: [role, opts.oracle] })
    await c.publicClient.waitForTransactionReceipt({ hash })
  } catch (err) {
    throw chainError(err, 'LabelerBadge.grantRole')
  }
  try {
    // Only trusted oracles' settlements build reputation (badge levels); see docs/chain.md.
    const hash = await c.walletClient!.writeContract({ address: escrow, abi: labelingEscrowAbi, functionName: 'setTrustedOracle', args: [opts.oracle, true] })
    await c.publicClient.waitForTransactionReceipt({ hash })
  } catch (err) {
    throw chainError(err, 'LabelingEscrow.setTrustedOracle')
  }
  const token = opts.testToken === false
    ? null
    : await deploy(c, 'TestToken', () => c.walletClient!.deployContract({ abi: testTokenAbi, bytecode: testTokenBytecode, args: [] }))
  const blockNumber = await c.publicClient.getBlockNumber()
  return {
    version: 1,
    chainId,
    rpcUrl: opts.rpcUrl,
    escrow,
    badge,
    token,
    owner,
    oracle: opts.oracle,
    blockNumber: blockNumber.toString(),
    deployedAt: new Date().toISOString(),
  }
}

async function deploy(c: ChainClients, name: string, send: () => Promise<Hex>): Promise<Address> {
  try {
    const hash = await send()
    const receipt = await c.publicClient.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`deployment transaction ${hash} failed`)
    return getAddress(receipt.contractAddress)
  } catch (err) {
    throw chainError(err, `deploy ${name}`)
  }
}
