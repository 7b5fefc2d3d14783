import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { createStore } from '../../src/store/index.ts'
import type { ContentStore } from '../../src/store/types.ts'
import type { StageJobSpec } from '../../src/jobs/types.ts'

export const TOY = join(import.meta.dirname, 'toy-stage.ts')

/** A temp dir with a real (offline) Helia store in it; `close` removes both. */
export async function tempStore(): Promise<{ dir: string; store: ContentStore; close(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'instruct3-jobs-test-'))
  const store = await createStore({ kind: 'helia', dir: join(dir, 'repo') })
  return {
    dir,
    store,
    async close() {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** A stage spec that runs the toy program with Node (entrypoint override; the image is only for Bacalhau). */
export function toySpec(stage: string, args: string[], inputs: StageJobSpec['inputs'], extra: Partial<StageJobSpec> = {}): StageJobSpec {
  return {
    name: `instruct3-${stage}-test`,
    stage,
    image: 'instruct3/trainer:test',
    entrypoint: [process.execPath, TOY],
    args,
    inputs,
    resources: { cpu: '1', memory: '512mb' },
    ...extra,
  }
}

export async function readAll(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return Buffer.concat(parts).toString('utf8')
}

/** A loopback URL on which nothing listens (a port we just bound and released). */
export async function closedPortUrl(): Promise<string> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return `http://127.0.0.1:${port}`
}
