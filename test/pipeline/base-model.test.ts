// A pipeline that starts from a pretrained GPT-2 instead of pretraining: a small GPT-2 in Hugging Face's
// layout (config.json, model.safetensors without the `transformer.` prefix, GPT-2's vocab.json +
// merges.txt), made by the PyTorch reference script, becomes the `base` stage; its context, width and
// depth come from its config.json, its tokenizer gets the chat markers, and SFT on it lowers the loss.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadPipelineConfig } from '../../src/pipeline/config.ts'
import { runPipeline } from '../../src/pipeline/run.ts'
import { loadTokenizer } from '../../src/tokenizer/index.ts'
import { packageRoot, sharedDataDir } from '../../src/util/paths.ts'

const PYTHON = '/usr/bin/python3'

function torchAvailable(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

test('the pipeline starts from a Hugging Face GPT-2 folder; SFT on it lowers the loss', { timeout: 900_000 }, async (t) => {
  const missing = !existsSync(sharedDataDir()) ? `shared data not found at ${sharedDataDir()}` : !torchAvailable() ? `${PYTHON} cannot import torch` : ''
  if (missing) {
    if (process.env.CI) assert.fail(missing)
    t.skip(missing)
    return
  }
  const root = mkdtempSync(join(tmpdir(), 'instruct3-base-'))
  t.after(() => rmSync(root, { recursive: true, force: true }))
  const gpt2 = join(root, 'gpt2-small-test')
  const env = { ...process.env }
  // Debian's torch refuses OpenBLAS tuning variables meant for other tools
  delete env.OPENBLAS_CORETYPE
  delete env.OPENBLAS_L2_SIZE
  execFileSync(PYTHON, [join(packageRoot, 'scripts', 'torch_reference.py'), '--hf-gpt2', gpt2, '--n-positions', '128', '--n-embd', '32', '--n-layer', '2', '--n-head', '2'], { env, stdio: 'ignore' })

  const cfgFile = join(root, 'pipeline.json')
  writeFileSync(
    cfgFile,
    JSON.stringify({
      extends: 'demo',
      name: 'from-gpt2',
      workDir: 'run',
      store: { kind: 'none' },
      // relative to the config file, like workDir
      base: { model: 'gpt2-small-test' },
      pretrain: { maxDocs: 40 },
      // the model section would say otherwise: the base model's config.json wins
      model: { nCtx: 64, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0 },
      sft: { maxDemonstrations: 32, maxEvalDemonstrations: 16, batchSize: 4, epochs: 2, lr: 5e-3, minLr: 5e-4, warmup: 2, evalEvery: 3 },
      samples: { enabled: false },
      hh: { enabled: false },
    }),
  )
  const cfg = loadPipelineConfig(cfgFile)
  assert.equal(cfg.base.model, gpt2)
  const r = await runPipeline(cfg, { quiet: true, until: 'sft' })
  assert.deepEqual(r.stages.map((s) => s.stage), ['data', 'base', 'fit', 'sft'])

  const base = r.stages.find((s) => s.stage === 'base')!
  // context, width and depth from config.json; GPT-2's 50,257 tokens plus <|pad|>, <|system|>, <|user|>, <|assistant|>
  assert.deepEqual({ n_ctx: base.metrics.n_ctx, n_embd: base.metrics.n_embd, n_layer: base.metrics.n_layer }, { n_ctx: 128, n_embd: 32, n_layer: 2 })
  assert.equal(base.metrics.vocab_size, 50257 + 4)
  const tok = loadTokenizer(join(cfg.workDir, 'sft', 'model'))
  assert.deepEqual(tok.encode('Hello world'), [15496, 995], 'GPT-2 ids kept')
  assert.equal(tok.eosId, 50256)
  const sftConfig = JSON.parse(readFileSync(join(cfg.workDir, 'sft', 'model', 'config.json'), 'utf8'))
  assert.equal(sftConfig.n_positions, 128)
  assert.equal(sftConfig.vocab_size, 50261)

  // SFT lowers the held-out loss: its first evaluation against its last
  const evals = readFileSync(join(cfg.workDir, 'sft', 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((row) => typeof row['eval/loss'] === 'number')
    .map((row) => row['eval/loss'])
  assert.ok(evals.length >= 2, `${evals.length} evaluations`)
  t.diagnostic(`SFT eval loss ${evals.map((l) => l.toFixed(3)).join(' -> ')}`)
  assert.ok(evals[evals.length - 1] < evals[0] - 0.5, `eval loss ${evals[0].toFixed(3)} -> ${evals[evals.length - 1].toFixed(3)}`)
})
