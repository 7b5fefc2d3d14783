import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gunzipSync } from 'node:zlib'
import { readJsonl } from '../src/util/jsonl.ts'
import { packageRoot, sharedDataDir } from '../src/util/paths.ts'
import { loadTokenizer } from '../src/tokenizer/files.ts'
import { trainBpe } from '../src/tokenizer/train.ts'
import type { Tokenizer } from '../src/tokenizer/types.ts'

/**
 * Tokenizer benchmark: `npm run bench -- tokenizer [--mb 20] [--vocab 8192]`. Trains on the first N MB of text from ../shared/data (string
 * fields of every JSONL row) and times training and encoding, single-threaded.
 */
export async function run(args: string[]): Promise<void> {
  const arg = (name: string, def: number) => {
    const i = args.indexOf(name)
    return i >= 0 ? Number(args[i + 1]) : def
  }
  const mb = arg('--mb', 20)
  const vocabSize = arg('--vocab', 8192)
  const texts = await loadTexts(mb * 1e6)
  const chars = texts.reduce((s, t) => s + t.length, 0)
  console.log(`corpus: ${texts.length} texts, ${(chars / 1e6).toFixed(1)} M chars from ${sharedDataDir()}`)

  const t0 = performance.now()
  let tCount = 0
  const tok = await trainBpe(texts, {
    vocabSize,
    onProgress: (p) => {
      if (p.phase === 'merge' && tCount === 0) tCount = performance.now()
    },
  })
  const t1 = performance.now()
  console.log(
    `train: vocab ${tok.vocabSize} in ${((t1 - t0) / 1000).toFixed(2)} s (word count ${((tCount - t0) / 1000).toFixed(2)} s, merges ${((t1 - tCount) / 1000).toFixed(2)} s)`,
  )

  // Encoding speed: first pass (cold per-word cache) and second pass (warm), on up to 5 MB.
  const sample: string[] = []
  let n = 0
  for (const t of texts) {
    if (n > 5e6) break
    sample.push(t)
    n += t.length
  }
  for (const pass of ['cold', 'warm']) {
    const s0 = performance.now()
    let ids = 0
    let bytes = 0
    for (const t of sample) {
      ids += tok.encode(t).length
      bytes += Buffer.byteLength(t)
    }
    const s = (performance.now() - s0) / 1000
    console.log(
      `encode (${pass} cache): ${(bytes / 1e6).toFixed(1)} MB -> ${ids} tokens in ${s.toFixed(2)} s = ${Math.round(ids / s).toLocaleString('en')} tokens/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s, ${(bytes / ids).toFixed(2)} bytes/token`,
    )
  }
  const d0 = performance.now()
  const all = sample.map((t) => tok.encode(t))
  const d1 = performance.now()
  let ok = true
  for (let i = 0; i < all.length; i++) if (tok.decode(all[i]) !== sample[i]) ok = false
  console.log(`decode: ${((performance.now() - d1) / 1000).toFixed(2)} s (encode again ${((d1 - d0) / 1000).toFixed(2)} s); round trip ${ok ? 'exact' : 'FAILED'}`)
  await compareGpt2(sample)
}

/** GPT-2 encode speed: ours (real GPT-2 files from the test fixtures) vs js-tiktoken (devDependency), same texts. */
async function compareGpt2(sample: string[]): Promise<void> {
  let ref: { encode(t: string, a: string[], d: string[]): number[] }
  try {
    const { getEncoding } = await import('js-tiktoken')
    ref = getEncoding('gpt2')
  } catch {
    console.log('gpt2 baseline: js-tiktoken not installed, skipped')
    return
  }
  const fx = join(packageRoot, 'test', 'fixtures', 'tokenizer')
  const dir = mkdtempSync(join(tmpdir(), 'instruct3-bench-'))
  let ours: Tokenizer
  try {
    writeFileSync(join(dir, 'vocab.json'), gunzipSync(readFileSync(join(fx, 'gpt2-vocab.json.gz'))))
    writeFileSync(join(dir, 'merges.txt'), gunzipSync(readFileSync(join(fx, 'gpt2-merges.txt.gz'))))
    ours = loadTokenizer(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const time = (f: (t: string) => number[]) => {
    const t0 = performance.now()
    let n = 0
    for (const t of sample) n += f(t).length
    return { n, s: (performance.now() - t0) / 1000 }
  }
  const a = time((t) => ours.encode(t))
  const b = time((t) => ref.encode(t, [], []))
  let same = true
  for (const t of sample.slice(0, 200)) if (JSON.stringify(ours.encode(t)) !== JSON.stringify(ref.encode(t, [], []))) same = false
  console.log(
    `gpt2 encode: instruct3 ${Math.round(a.n / a.s).toLocaleString('en')} tokens/s, js-tiktoken ${Math.round(b.n / b.s).toLocaleString('en')} tokens/s, ratio ${(b.s / a.s).toFixed(2)}x; ids ${same && a.n === b.n ? 'identical' : 'DIFFER'}`,
  )
}

/** String fields of every JSONL row under the shared data folder, until maxChars. */
async function loadTexts(maxChars: number): Promise<string[]> {
  const files = walk(sharedDataDir()).filter((f) => /\.jsonl(\.gz)?$/.test(f)).sort()
  const out: string[] = []
  let total = 0
  const strings = (v: unknown, acc: string[]) => {
    if (typeof v === 'string') acc.push(v)
    else if (Array.isArray(v)) v.forEach((x) => strings(x, acc))
    else if (v && typeof v === 'object') Object.values(v).forEach((x) => strings(x, acc))
  }
  for (const f of files) {
    for await (const row of readJsonl(f)) {
      const acc: string[] = []
      strings(row.value, acc)
      const t = acc.join('\n')
      out.push(t)
      total += t.length
      if (total >= maxChars) return out
    }
  }
  return out
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}

if (import.meta.main) await run(process.argv.slice(2))
