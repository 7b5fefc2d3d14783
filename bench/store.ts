// `npm run bench -- store [--size MB] [--keep]`: add and cat of a checkpoint-sized file through the
// embedded Helia store, against plain file copies on the same disk, with peak RSS to show streaming.
import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createStore } from '../src/store/index.ts'

const MB = 1e6

function parseArgs(args: string[]): { sizeMb: number } {
  let sizeMb = 200
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--size') sizeMb = Number(args[++i])
    else if (args[i].startsWith('--size=')) sizeMb = Number(args[i].slice(7))
    else throw new Error(`unknown argument ${args[i]} (usage: npm run bench -- store [--size MB])`)
  }
  if (!Number.isFinite(sizeMb) || sizeMb <= 0) throw new Error('--size must be a positive number of MB')
  return { sizeMb }
}

const rssMb = () => process.resourceUsage().maxRSS / 1024 // maxRSS is in KiB

async function timed<T>(fn: () => Promise<T>): Promise<{ s: number; value: T }> {
  const t0 = performance.now()
  const value = await fn()
  return { s: (performance.now() - t0) / 1000, value }
}

export async function run(args: string[]): Promise<void> {
  const { sizeMb } = parseArgs(args)
  const dir = await mkdtemp(join(tmpdir(), 'instruct3-bench-store-'))
  const bytes = Math.round(sizeMb * MB)
  try {
    // the "checkpoint": random bytes (incompressible, no dedup), written in 1 MiB chunks
    const src = join(dir, 'checkpoint.bin')
    await pipeline(
      (async function* () {
        for (let left = bytes; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20))
      })(),
      createWriteStream(src),
    )
    const rssStart = rssMb()
    console.log(`store bench: ${sizeMb} MB file in ${dir} (node ${process.version}, ${process.platform}/${process.arch})`)

    const copy = await timed(() => copyFile(src, join(dir, 'copy.bin')))
    const stream = await timed(() => pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createWriteStream(join(dir, 'stream.bin'))))
    const rssBaseline = rssMb()
    await rm(join(dir, 'copy.bin'))
    await rm(join(dir, 'stream.bin'))

    const store = await createStore({ kind: 'helia', dir: join(dir, 'repo') })
    let addS = 0
    let catS = 0
    let getS = 0
    let cid = ''
    try {
      const add = await timed(() => store.addFile(src))
      addS = add.s
      cid = add.value.toString()
      const rssAdd = rssMb()
      const cat = await timed(async () => {
        let n = 0
        for await (const chunk of store.cat(add.value)) n += chunk.byteLength
        return n
      })
      if (cat.value !== bytes) throw new Error(`cat returned ${cat.value} bytes, expected ${bytes}`)
      catS = cat.s
      const rssCat = rssMb()
      const get = await timed(() => store.get(add.value, join(dir, 'got.bin')))
      getS = get.s
      if ((await stat(join(dir, 'got.bin'))).size !== bytes) throw new Error('get wrote the wrong size')
      const rssGet = rssMb()

      const rate = (s: number) => bytes / MB / s
      const row = (name: string, s: number, note = '') =>
        console.log(`${name.padEnd(34)} ${s.toFixed(2).padStart(7)} s ${rate(s).toFixed(0).padStart(6)} MB/s  x${(rate(s) / rate(stream.s)).toFixed(2)} of stream copy${note}`)
      console.log(`CID ${cid}`)
      row('baseline fs.copyFile', copy.s)
      row('baseline stream copy (1 MiB chunks)', stream.s)
      row('store add (chunk+hash+write blocks)', addS)
      row('store cat (read+re-hash, to memory)', catS)
      row('store get (read+re-hash, to file)', getS)
      console.log(`peak RSS MB: start ${rssStart.toFixed(0)}, after copies ${rssBaseline.toFixed(0)}, after add ${rssAdd.toFixed(0)}, after cat ${rssCat.toFixed(0)}, after get ${rssGet.toFixed(0)} (file is ${sizeMb} MB)`)
      const grew = rssGet - rssBaseline
      console.log(`streaming: peak RSS grew ${grew.toFixed(0)} MB over the baseline for a ${sizeMb} MB file (${((grew / sizeMb) * 100).toFixed(0)}% of its size)`)
    } finally {
      await store.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
