import type { Command } from 'commander'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { Instruct3Error } from '../../util/errors.ts'
import { createProgress } from '../../util/progress.ts'
import type { Store } from '../../store/types.ts'

// The store modules (Helia, libp2p, kubo client) load only when a store command runs,
// so other commands do not pay for them at startup.
const lib = async () => {
  const [index, car, filecoin, verify] = await Promise.all([
    import('../../store/index.ts'),
    import('../../store/car.ts'),
    import('../../store/filecoin/index.ts'),
    import('../../store/verify.ts'),
  ])
  return { ...index, ...car, ...filecoin, ...verify }
}

type StoreOpts = { ipfsApi?: string; repo?: string; timeout?: string }

/** `--ipfs-api URL` = a Kubo node; `--repo DIR` = a Helia repository there; default = the project's Helia store. */
async function openStore(o: StoreOpts): Promise<Store> {
  const { createStore, defaultStore } = await lib()
  if (o.ipfsApi && o.repo) throw new Instruct3Error('give either --ipfs-api or --repo, not both', { code: 'EUSAGE' })
  if (o.ipfsApi) return createStore({ kind: 'kubo', apiUrl: o.ipfsApi })
  if (o.repo) return createStore({ kind: 'helia', dir: resolve(o.repo) })
  return defaultStore()
}

async function withStore<T>(cmd: Command, fn: (store: Store, o: StoreOpts) => Promise<T>): Promise<T> {
  const o = cmd.optsWithGlobals<StoreOpts>()
  const store = await openStore(o)
  try {
    return await fn(store, o)
  } finally {
    await store.close()
  }
}

const timeoutOf = (o: StoreOpts) => {
  if (o.timeout === undefined) return undefined
  const ms = Number(o.timeout)
  if (!Number.isFinite(ms) || ms <= 0) throw new Instruct3Error(`--timeout must be a positive number of milliseconds, got "${o.timeout}"`, { code: 'EUSAGE', details: { field: 'timeout' } })
  return ms
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--ipfs-api <url>', 'use a Kubo node over its RPC API (e.g. http://127.0.0.1:5001) instead of the embedded Helia node')
    .option('--repo <dir>', 'embedded Helia repository folder (default: $INSTRUCT3_HOME/ipfs)')
    .option('--timeout <ms>', 'give up on a block nobody serves after this many ms (default 30000)')
}

async function writeOut(chunk: Uint8Array): Promise<void> {
  if (!process.stdout.write(chunk)) await new Promise<void>((r) => process.stdout.once('drain', () => r()))
}

const mb = (n: number) => Math.round(n / 1e4) / 100

export function register(program: Command): void {
  const store = storeOptions(program.command('store').description('content-addressed storage: embedded Helia node or Kubo (CIDs, CARs, pins, Filecoin uploads)'))

  store
    .command('add <path>')
    .description('add a file or directory as UnixFS (CIDv1, 1 MiB chunks); prints its CID')
    .option('--no-pin', 'do not pin (gc may then remove it)')
    .action(async (path: string, o: { pin: boolean }, cmd: Command) =>
      withStore(cmd, async (s) => {
        let st
        try {
          st = await stat(path)
        } catch {
          throw new Instruct3Error('no such file or directory', { code: 'ENOENT', details: { file: path } })
        }
        const progress = createProgress({ label: 'add', total: st.isFile() ? mb(st.size) : 0, unit: 'MB', quiet: !st.isFile() || st.size < 50e6 })
        let done = 0
        const opts = { pin: o.pin, onBytes: (n: number) => { done += n; progress.set(mb(done)) } }
        const cid = st.isDirectory() ? await s.addDirectory(path, opts) : await s.addFile(path, opts)
        progress.done()
        console.log(cid.toString())
      }),
    )

  store
    .command('cat <cid>')
    .description('write a UnixFS file to stdout (every block re-hashed)')
    .action(async (cid: string, _o: unknown, cmd: Command) =>
      withStore(cmd, async (s, o) => {
        for await (const chunk of s.cat(cid, { timeoutMs: timeoutOf(o) })) await writeOut(chunk)
      }),
    )

  store
    .command('get <cid> <dest>')
    .description('materialise a file or directory at <dest> (atomically: nothing is left on failure); an existing non-empty <dest> needs --force')
    .option('--force', 'replace an existing non-empty <dest> (its contents are deleted)', false)
    .action(async (cid: string, dest: string, g: { force: boolean }, cmd: Command) =>
      withStore(cmd, async (s, o) => {
        const { refuseToReplace } = await import('../../util/replace-guard.ts')
        await refuseToReplace(resolve(dest), { force: g.force })
        await s.get(cid, resolve(dest), { timeoutMs: timeoutOf(o) })
        console.log(`${cid} -> ${dest}`)
      }),
    )

  store
    .command('ls <cid>')
    .description('list a UnixFS directory: type, size, CID, name')
    .action(async (cid: string, _o: unknown, cmd: Command) =>
      withStore(cmd, async (s, o) => {
        for await (const e of s.ls(cid, { timeoutMs: timeoutOf(o) })) console.log(`${e.type === 'directory' ? 'd' : '-'} ${String(e.size).padStart(12)} ${e.cid} ${e.name}`)
      }),
    )

  store
    .command('pin [cid]')
    .description('pin a CID (all its blocks must be local); without a CID, list pins')
    .action(async (cid: string | undefined, _o: unknown, cmd: Command) =>
      withStore(cmd, async (s) => {
        if (cid === undefined) {
          for await (const p of s.pins()) console.log(p.toString())
          return
        }
        await s.pin((await lib()).toCid(cid))
        console.log(`pinned ${cid}`)
      }),
    )

  store
    .command('unpin <cid>')
    .description('remove a pin (blocks stay until gc)')
    .action(async (cid: string, _o: unknown, cmd: Command) =>
      withStore(cmd, async (s) => {
        await s.unpin((await lib()).toCid(cid))
        console.log(`unpinned ${cid}`)
      }),
    )

  store
    .command('gc')
    .description('delete every block not reachable from a pin')
    .action(async (_o: unknown, cmd: Command) =>
      withStore(cmd, async (s) => {
        console.log(`removed ${await s.gc()} blocks`)
      }),
    )

  store
    .command('export-car <cid> <file>')
    .description('write the DAG under <cid> to a CARv1 file (blocks re-hashed; file written atomically)')
    .action(async (cid: string, file: string, _o: unknown, cmd: Command) =>
      withStore(cmd, async (s, o) => {
        const r = await (await lib()).exportCar(s, cid, resolve(file), { timeoutMs: timeoutOf(o) })
        console.log(`${r.root} -> ${file} (${r.blocks} blocks, ${r.bytes} bytes)`)
      }),
    )

  store
    .command('import-car <file>')
    .description('import a CAR: every block verified and every link resolved before anything is stored; roots pinned')
    .option('--no-pin', 'do not pin the roots')
    .option('--max-expanded <bytes>', 'refuse a CAR whose DAG expands past this many bytes (repeated subtrees counted each time; default 64 GiB)')
    .action(async (file: string, o: { pin: boolean; maxExpanded?: string }, cmd: Command) =>
      withStore(cmd, async (s) => {
        const max = o.maxExpanded === undefined ? undefined : Number(o.maxExpanded)
        if (max !== undefined && !(Number.isFinite(max) && max > 0)) throw new Instruct3Error(`--max-expanded must be a positive number of bytes, got ${JSON.stringify(o.maxExpanded)}`, { code: 'EUSAGE', details: { field: '--max-expanded' } })
        const r = await (await lib()).importCar(s, resolve(file), { pin: o.pin, ...(max !== undefined ? { maxExpandedBytes: max } : {}) })
        console.log(`imported ${r.blocks} blocks (${r.bytes} bytes); roots: ${r.roots.join(' ')}`)
      }),
    )

  store
    .command('upload <cid>')
    .description('upload the DAG under <cid> to Filecoin as a CAR; prints root CID and deal status as JSON')
    .requiredOption('--to <service>', 'storacha (env STORACHA_KEY, STORACHA_PROOF) or lighthouse (env LIGHTHOUSE_API_KEY)')
    .action(async (cid: string, o: { to: string }, cmd: Command) => {
      const { uploaderFromEnv, exportCar, toCid } = await lib()
      const uploader = uploaderFromEnv(o.to) // credentials first: fail before any work
      await withStore(cmd, async (s, so) => {
        const dir = await mkdtemp(join(tmpdir(), 'instruct3-upload-'))
        try {
          const car = join(dir, `${toCid(cid)}.car`)
          await exportCar(s, cid, car, { timeoutMs: timeoutOf(so) })
          console.log(JSON.stringify(await uploader.uploadCar(car, toCid(cid).toString()), null, 2))
        } finally {
          await rm(dir, { recursive: true, force: true })
        }
      })
    })

  storeOptions(
    program
      .command('verify <cid>')
      .description('verify a pipeline or run manifest: refetch and re-hash every linked artifact, check each stage consumed the previous stage\'s outputs')
      .option('--json', 'print the full report as JSON'),
  ).action(async (cid: string, o: { json?: boolean }, cmd: Command) =>
    withStore(cmd, async (s, so) => {
      const report = await (await lib()).verifyManifest(s, cid, {
        timeoutMs: timeoutOf(so),
        onArtifact: o.json ? undefined : (a) => console.log(`${a.ok ? 'ok  ' : 'FAIL'} ${a.cid} ${a.blocks} blocks ${a.bytes} bytes  ${a.usedAs.join(', ')}`),
      })
      if (o.json) console.log(JSON.stringify(report, null, 2))
      else {
        console.log(`${report.kind} ${report.root}: stages ${report.stages.map((x) => x.stage).join(' -> ') || '(none)'}`)
        for (const p of report.problems) console.log(`problem: ${p}`)
      }
      if (!report.ok) throw new Instruct3Error(`verification failed: ${report.problems.length} problem(s)`, { code: 'EVERIFY', details: { cid: report.root } })
      if (!o.json) console.log('verified: every artifact re-hashed, every stage chained')
    }),
  )
}
