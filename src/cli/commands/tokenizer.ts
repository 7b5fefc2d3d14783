import type { Command } from 'commander'
import { createReadStream, existsSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Instruct3Error } from '../../util/errors.ts'
import { readJsonl } from '../../util/jsonl.ts'
import { createProgress } from '../../util/progress.ts'
import { loadTokenizer, saveTokenizer, trainBpe, type TokenizerFormat } from '../../tokenizer/index.ts'

/** `instruct3 tokenizer train|encode|decode|info` */
export function register(program: Command): void {
  const cmd = program.command('tokenizer').description('byte-level BPE tokenizer: train, encode, decode, inspect')

  cmd
    .command('train')
    .description('train a byte-level BPE tokenizer (GPT-2 style) on a .txt or .jsonl[.gz] file')
    .requiredOption('--input <file>', 'training text: .txt, or .jsonl / .jsonl.gz (the "text" field, else all string fields of a row)')
    .requiredOption('--vocab-size <n>', 'vocabulary size (256 bytes + special tokens + merges)', parseIntArg('--vocab-size'))
    .requiredOption('--out <dir>', 'output directory (vocab.json, merges.txt, tokenizer.json)')
    .option('--field <name>', 'JSONL field holding the text (default "text", else all string fields)')
    .option('--min-frequency <n>', 'stop merging below this pair count', parseIntArg('--min-frequency'), 2)
    .option('--format <f>', 'gpt2 | hf | both', 'both')
    .option('--quiet', 'no progress output')
    .action(async (o: { input: string; vocabSize: number; out: string; field?: string; minFrequency: number; format: string; quiet?: boolean }) => {
      const formats = parseFormat(o.format)
      if (!existsSync(o.input)) throw new Instruct3Error('input file not found', { code: 'ENOENT', details: { file: o.input } })
      const size = statSync(o.input).size
      const reading = createProgress({ label: 'reading', total: Math.max(1, Math.round(size / 1e6)), unit: 'MB', quiet: o.quiet })
      let merging: ReturnType<typeof createProgress> | undefined
      const t0 = performance.now()
      let docs = 0
      async function* texts(): AsyncGenerator<string> {
        for await (const t of readTexts(o.input, o.field, (fileBytes) => reading.set(Math.round(fileBytes / 1e6)))) {
          docs++
          yield t
        }
        reading.done({ docs })
      }
      const tok = await trainBpe(texts(), {
        vocabSize: o.vocabSize,
        minFrequency: o.minFrequency,
        onProgress: (p) => {
          if (p.phase !== 'merge') return
          merging ??= createProgress({ label: 'merges', total: p.totalMerges, unit: 'merges', quiet: o.quiet })
          merging.set(p.merges)
        },
      })
      merging?.done()
      if (docs === 0) throw new Instruct3Error('no text in the input (empty corpus)', { code: 'EEMPTY', details: { file: o.input } })
      await saveTokenizer(o.out, tok, { formats })
      const s = ((performance.now() - t0) / 1000).toFixed(1)
      console.log(`trained vocab ${tok.vocabSize} (eos ${tok.eosId}, pad ${tok.padId}) in ${s}s -> ${o.out}`)
      console.log(`fingerprint ${tok.fingerprint}`)
      if (tok.vocabSize < o.vocabSize) console.log(`note: stopped at ${tok.vocabSize} < ${o.vocabSize}: no pair occurs ${o.minFrequency}+ times`)
    })

  cmd
    .command('encode')
    .description('print the token ids of TEXT as JSON')
    .requiredOption('--dir <dir>', 'tokenizer directory (tokenizer.json or vocab.json + merges.txt)')
    .option('--allow-special', 'recognise special tokens such as <|endoftext|> in the text')
    .option('--tokens', 'also print the token strings')
    .argument('<text>', 'text to encode')
    .action((text: string, o: { dir: string; allowSpecial?: boolean; tokens?: boolean }) => {
      const tok = loadTokenizer(o.dir)
      const ids = tok.encode(text, { allowSpecial: o.allowSpecial })
      console.log(JSON.stringify(ids))
      if (o.tokens) console.log(JSON.stringify(ids.map((id) => tok.idToToken(id))))
    })

  cmd
    .command('decode')
    .description('print the text of token IDS (numbers, or one JSON array)')
    .requiredOption('--dir <dir>', 'tokenizer directory')
    .argument('<ids...>', 'token ids')
    .action((args: string[], o: { dir: string }) => {
      const tok = loadTokenizer(o.dir)
      const joined = args.join(' ').trim()
      const ids = (joined.startsWith('[') ? JSON.parse(joined) : joined.split(/[\s,]+/)).map(Number) as number[]
      console.log(tok.decode(ids))
    })

  cmd
    .command('info')
    .description('vocabulary size, special token ids and fingerprint')
    .requiredOption('--dir <dir>', 'tokenizer directory')
    .action((o: { dir: string }) => {
      const tok = loadTokenizer(o.dir)
      const spec = tok.toSpec()
      console.log(JSON.stringify({ vocabSize: tok.vocabSize, merges: spec.merges.length, eosId: tok.eosId, specialTokens: Object.fromEntries(tok.specialTokens), fingerprint: tok.fingerprint }, null, 2))
    })
}

function parseIntArg(name: string) {
  return (v: string): number => {
    const n = Number(v)
    if (!Number.isInteger(n) || n < 0) throw new Instruct3Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`, { details: { field: name } })
    return n
  }
}

function parseFormat(f: string): TokenizerFormat[] {
  if (f === 'both') return ['gpt2', 'hf']
  if (f === 'gpt2' || f === 'hf') return [f]
  throw new Instruct3Error(`--format must be gpt2, hf or both, got ${JSON.stringify(f)}`, { details: { field: '--format' } })
}

/**
 * Stream training texts: JSONL rows (the field, "text", or every string field), or a .txt file
 * in ~1 MB chunks cut at line ends (so memory stays flat on big files).
 */
async function* readTexts(file: string, field: string | undefined, onBytes: (n: number) => void): AsyncGenerator<string> {
  if (/\.jsonl(\.gz)?$/.test(file)) {
    const size = statSync(file).size
    let approx = 0
    for await (const row of readJsonl(file)) {
      const t = rowText(row.value, field, file, row.line)
      approx += t.length
      onBytes(file.endsWith('.gz') ? Math.min(size, approx / 3) : Math.min(size, approx))
      if (t) yield t
    }
    return
  }
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  let chunk = ''
  let total = 0
  for await (const line of rl) {
    chunk += line + '\n'
    if (chunk.length >= 1 << 20) {
      total += chunk.length
      onBytes(total)
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}

function rowText(v: unknown, field: string | undefined, file: string, line: number): string {
  if (typeof v === 'string') return v
  if (!v || typeof v !== 'object') return ''
  const o = v as Record<string, unknown>
  if (field !== undefined) {
    if (typeof o[field] !== 'string') throw new Instruct3Error(`row has no string field "${field}"`, { details: { file, line, field } })
    return o[field] as string
  }
  if (typeof o.text === 'string') return o.text
  const acc: string[] = []
  const walk = (x: unknown) => {
    if (typeof x === 'string') acc.push(x)
    else if (Array.isArray(x)) x.forEach(walk)
    else if (x && typeof x === 'object') Object.values(x).forEach(walk)
  }
  walk(o)
  return acc.join('\n')
}
