import { openAsBlob } from 'node:fs'
import { Instruct3Error } from '../../util/errors.ts'
import { carCid } from './car-cid.ts'
import { requireEnv } from './http.ts'
import type { FilecoinUploader, UploadResult } from './types.ts'

/**
 * The parts of @storacha/client 2.1.4 used here, typed locally. Its own type declarations pull in type-fest's
 * `/// <reference lib="esnext" />`, which changes the typed-array types for the whole program (src/model then no
 * longer type-checks), so the package is loaded by a module name TypeScript does not follow.
 */
type StorachaDid = { did(): `did:${string}` }
type StorachaDelegation = { audience: StorachaDid }
/** The client's service connections (ucanto connections for access, upload, filecoin, gateway). */
export type ServiceConf = Record<string, unknown>
type StorachaClient = {
  addSpace(proof: StorachaDelegation): Promise<StorachaDid>
  setCurrentSpace(did: `did:${string}`): Promise<void>
  uploadCAR(car: Blob, opts: { onShardStored?: (meta: { cid: { toString(): string } }) => void }): Promise<{ toString(): string }>
}
type StorachaModules = {
  create(o: { principal: StorachaDid; store: unknown; serviceConf?: ServiceConf; receiptsEndpoint?: URL }): Promise<StorachaClient>
  Signer: { parse(key: string): StorachaDid }
  Proof: { parse(s: string): Promise<StorachaDelegation> }
  StoreMemory: new () => unknown
}
const MODULES = ['@storacha/client', '@storacha/client/principal/ed25519', '@storacha/client/proof', '@storacha/client/stores/memory']
async function loadStoracha(): Promise<StorachaModules> {
  const [client, ed25519, proof, memory] = await Promise.all(MODULES.map((m) => import(m)))
  return { create: client.create, Signer: ed25519.Signer, Proof: proof, StoreMemory: memory.StoreMemory }
}

export type StorachaInit = {
  /** The agent's private key (`storacha key create` prints it, "MgCa..."); its did:key is the proof's audience. */
  key: string
  /**
   * A UCAN delegation from the space to that agent, base64 (`storacha delegation create <agent did:key>
   * --can space/blob/add --can space/index/add --can filecoin/offer --can upload/add --base64`).
   */
  proof: string
  /** Service connections; default: up.storacha.network (tests point them at a local server). */
  serviceConf?: ServiceConf
  /** Where upload receipts are polled; default https://up.storacha.network/receipt/. */
  receiptsEndpoint?: URL
}

/** STORACHA_KEY and STORACHA_PROOF. */
export function storachaFromEnv(env: NodeJS.ProcessEnv = process.env): StorachaInit {
  return { key: requireEnv(env, 'STORACHA_KEY', 'storacha'), proof: requireEnv(env, 'STORACHA_PROOF', 'storacha') }
}

/**
 * Storacha through its own client, @storacha/client 2.1.4 (agent key + delegation, `uploadCAR`). The client
 * speaks UCAN invocations to the upload service: `space/blob/add` for each CAR shard (then the HTTP PUT and
 * `blob/accept` the service asks for), `space/index/add`, `filecoin/offer`, and `upload/add {root, shards}`.
 * (The UCAN-HTTP bridge our old client used cannot carry these: `store/add` was removed from the service and
 * `space/blob/add` needs signed follow-up steps.) The client re-packs the CAR into shards of at most 127 MiB
 * (its default shard size), so the shard CIDs can differ from our CAR file's CID; the root CID is what counts,
 * and is checked. Storacha aggregates uploads into Filecoin deals later: right after an upload the deal status
 * is "pending".
 */
export function createStorachaUploader(init: StorachaInit): FilecoinUploader {
  let client: Promise<StorachaClient> | undefined
  const connect = async (): Promise<StorachaClient> => {
    const { create, Signer, Proof, StoreMemory } = await loadStoracha()
    let principal
    try {
      principal = Signer.parse(init.key)
    } catch (cause) {
      throw new Instruct3Error(`storacha: STORACHA_KEY is not an Ed25519 private key ("MgCa...", from \`storacha key create\`): ${(cause as Error).message}`, { code: 'ECONFIG', details: { field: 'STORACHA_KEY' }, cause })
    }
    let proof
    try {
      proof = await Proof.parse(init.proof)
    } catch (cause) {
      throw new Instruct3Error(`storacha: STORACHA_PROOF is not a base64 delegation (\`storacha delegation create ... --base64\`): ${(cause as Error).message}`, { code: 'ECONFIG', details: { field: 'STORACHA_PROOF' }, cause })
    }
    if (proof.audience.did() !== principal.did()) {
      throw new Instruct3Error(`storacha: STORACHA_PROOF delegates to ${proof.audience.did()}, not to the agent of STORACHA_KEY (${principal.did()})`, { code: 'ECONFIG', details: { field: 'STORACHA_PROOF' } })
    }
    const c = await create({ principal, store: new StoreMemory(), serviceConf: init.serviceConf, receiptsEndpoint: init.receiptsEndpoint })
    const space = await c.addSpace(proof)
    await c.setCurrentSpace(space.did())
    return c
  }

  return {
    service: 'storacha',
    async uploadCar(carFile, root): Promise<UploadResult> {
      const { cid, size } = await carCid(carFile)
      const c = await (client ??= connect())
      const shards: string[] = []
      let got
      try {
        got = await c.uploadCAR(await openAsBlob(carFile), { onShardStored: (meta) => void shards.push(meta.cid.toString()) })
      } catch (cause) {
        const e = cause as Error & { cause?: { name?: string; message?: string } }
        const why = e.cause?.message ? `${e.message}: ${e.cause.message}` : e.message
        throw new Instruct3Error(`storacha: upload failed: ${why}`, { code: 'EUPLOAD', details: { file: carFile }, cause })
      }
      if (got.toString() !== root) throw new Instruct3Error(`storacha: upload registered root ${got} instead of ${root}`, { code: 'EUPLOAD', details: { file: carFile } })
      return { service: 'storacha', root, carCid: cid.toString(), carBytes: size, remoteCid: got.toString(), shards, dealStatus: 'pending', deals: [] }
    },
    async dealStatus() {
      // deal info needs the shard's piece CID (filecoin/info); until aggregation has happened there is none
      return { dealStatus: 'pending', deals: [] }
    },
  }
}
