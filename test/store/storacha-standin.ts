/**
 * TEST CODE ONLY. Storacha's upload service, run locally from its own code: @storacha/upload-api 2.8.4
 * (`test/context` createContext: the real UCAN handlers for space/blob/add, blob/allocate + http/put + blob/accept,
 * ucan/conclude, space/index/add, filecoin/offer, upload/add, with the package's in-memory stores and a loopback
 * HTTP blob store for the presigned PUT). What is simulated: storage (memory instead of S3/DynamoDB/R2), the
 * storage node, indexing and Filecoin aggregation, and the receipts endpoint. The receipts endpoint
 * (`GET /receipt/<task CID>`, which w3infra answers with the agent message CAR holding the receipt) is served
 * here from the service's agent store, in the format @storacha/upload-client 1.4.2 `receipts.js get` decodes
 * (CAR.request.decode of an agent message).
 * A space must be provisioned (a storage provider for the space's account) before uploads are accepted, as in
 * the real service; `provision` does that.
 */
import assert from 'node:assert'
import * as http from 'node:http'
import type { AddressInfo } from 'node:net'
import { CID } from 'multiformats/cid'
import { identity } from 'multiformats/hashes/identity'
import { base64 } from 'multiformats/bases/base64'
import type { ServiceConf } from '../../src/store/filecoin/storacha.ts'

/**
 * The service's test context, loaded without its types: @storacha/upload-api's types reach into
 * @storacha/indexing-service-client's TypeScript sources, which do not compile under this project's settings.
 */
type Ctx = {
  connection: { id: { did(): string } }
  provisionsStorage: { put(p: { provider: string; account: string; consumer: string }): Promise<unknown> }
  uploadTable: { exists(space: string, root: CID): Promise<{ ok?: boolean }> }
  agentStore: { receipts: { get(c: CID): Promise<{ ok?: unknown; error?: unknown }> } }
}
type ContextModule = { createContext(o: object): Promise<Ctx>; cleanupContext(c: Ctx): Promise<unknown> }
/** The client-side packages, loaded the same way (their types pull in type-fest's lib="esnext"; see src/store/filecoin/storacha.ts). */
type Space = { did(): string; createAuthorization(a: { did(): string }): Promise<{ archive(): Promise<{ ok?: Uint8Array }> }> }
type Libs = {
  create(o: object): Promise<{ createSpace(name: string, o: object): Promise<Space> }>
  StoreMemory: new () => unknown
  Signer: { generate(): Promise<{ did(): string }>; format(s: unknown): string }
  Message: { build(o: { receipts: unknown[] }): Promise<unknown> }
  CAR: { request: { encode(m: unknown): { body: Uint8Array } } }
}
const [CONTEXT_MODULE, CLIENT, MEMORY, ED25519, UCANTO_CORE, UCANTO_TRANSPORT] = [
  '@storacha/upload-api/test/context', '@storacha/client', '@storacha/client/stores/memory', '@storacha/client/principal/ed25519', '@ucanto/core', '@ucanto/transport',
]
async function libs(): Promise<Libs> {
  const [client, memory, ed, core, transport] = await Promise.all([CLIENT, MEMORY, ED25519, UCANTO_CORE, UCANTO_TRANSPORT].map((m) => import(m)))
  return { create: client.create, StoreMemory: memory.StoreMemory, Signer: ed.Signer, Message: core.Message, CAR: transport.CAR }
}

export type StorachaStandin = {
  serviceConf: ServiceConf
  receiptsEndpoint: URL
  /** A fresh agent key (STORACHA_KEY) and a space delegated to it (STORACHA_PROOF), as the CLI would print them. */
  credentials(opts?: { provision?: boolean; audience?: string }): Promise<{ key: string; proof: string; space: string; agent: string }>
  /** Is `root` registered as an upload in `space`? */
  hasUpload(space: string, root: string): Promise<boolean>
  close(): Promise<void>
}

export async function startStorachaStandin(): Promise<StorachaStandin> {
  const Context = (await import(CONTEXT_MODULE)) as ContextModule
  const { create, StoreMemory, Signer, Message, CAR } = await libs()
  const ctx = await Context.createContext({ assert, http })
  const agentStore = ctx.agentStore
  const receipts = http.createServer(async (req, res) => {
    try {
      const task = CID.parse(new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() ?? '')
      const r = await agentStore.receipts.get(task)
      if (!r.ok) return void res.writeHead(404).end()
      const msg = await Message.build({ receipts: [r.ok] })
      res.writeHead(200, { 'content-type': 'application/vnd.ipld.car' }).end(Buffer.from(CAR.request.encode(msg).body))
    } catch {
      res.writeHead(400).end()
    }
  })
  await new Promise<void>((r) => receipts.listen(0, '127.0.0.1', r))
  const serviceConf: ServiceConf = { access: ctx.connection, upload: ctx.connection, filecoin: ctx.connection }
  return {
    serviceConf,
    receiptsEndpoint: new URL(`http://127.0.0.1:${(receipts.address() as AddressInfo).port}/receipt/`),
    async credentials(opts = {}) {
      const agent = await Signer.generate()
      const owner = await create({ store: new StoreMemory(), serviceConf })
      const space = await owner.createSpace('instruct3-test', { skipGatewayAuthorization: true })
      const audience = opts.audience ?? agent.did()
      const delegation = await space.createAuthorization({ did: () => audience })
      const archived = await delegation.archive()
      if (!archived.ok) throw new Error('cannot archive the delegation')
      // `storacha delegation create --base64`: the CAR as the identity multihash of a CAR-codec CID, base64
      const proof = CID.createV1(0x0202, identity.digest(archived.ok)).toString(base64)
      if (opts.provision !== false) {
        await ctx.provisionsStorage.put({ provider: ctx.connection.id.did(), account: agent.did(), consumer: space.did() })
      }
      return { key: Signer.format(agent), proof, space: space.did(), agent: agent.did() }
    },
    async hasUpload(space, root) {
      const r = await ctx.uploadTable.exists(space, CID.parse(root))
      return r.ok === true
    },
    async close() {
      await new Promise<void>((r) => receipts.close(() => r()))
      await Context.cleanupContext(ctx)
    },
  }
}
