/**
 * `instruct3 reproduce <cid>`: re-run one stage of a recorded pipeline run from its run manifest, with the
 * same pipeline config and the same input artifacts (fetched from the store by CID into a fresh folder),
 * add what it produces to the store, and compare output CIDs with the recorded ones. Equal CIDs mean
 * bitwise-identical outputs.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import type { CID } from 'multiformats/cid'
import { Instruct3Error } from '../util/errors.ts'
import type { ContentStore } from '../store/types.ts'
import type { RunManifest } from '../store/manifest.ts'
import { parseFrom } from '../store/manifest.ts'
import { reproduce, type ReproduceReport } from '../store/reproduce.ts'
import type { PipelineConfig } from './config.ts'
import { runStage, type StageRecord } from './stage.ts'
import { STAGES } from './stages.ts'

export async function reproduceStage(store: ContentStore, cid: string, opts: { stage?: string; quiet?: boolean; keep?: boolean } = {}): Promise<ReproduceReport> {
  return reproduce(
    store,
    cid,
    async (m: RunManifest) => {
      const cfg = (m.config as { pipeline?: PipelineConfig } | null)?.pipeline
      if (!cfg) throw new Instruct3Error('the manifest does not record its pipeline config: it was not written by `instruct3 pipeline`', { code: 'EMANIFEST', details: { field: 'config.pipeline' } })
      const def = STAGES.find((s) => s.name === m.stage)
      if (!def) throw new Instruct3Error(`unknown stage "${m.stage}"`, { code: 'EMANIFEST', details: { field: 'stage' } })
      const root = mkdtempSync(join(tmpdir(), `instruct3-reproduce-${m.stage}-`))
      try {
        const records = new Map<string, StageRecord>()
        const dirs = new Map<string, string>()
        const external = new Map<string, string>()
        for (const [name, c] of Object.entries(m.inputs)) {
          const from = parseFrom(name)
          if (!from) {
            // an external input (shared data, a base model): fetched by its CID like the others
            const to = join(root, 'external', name)
            await store.get(c, to)
            external.set(name, to)
            continue
          }
          const dir = join(root, 'inputs', from.stage)
          await store.get(c, join(dir, from.output))
          const rec = records.get(from.stage) ?? { stage: from.stage, key: '', outputs: {}, metrics: {}, startedAt: '', finishedAt: '', seconds: 0 }
          rec.outputs[from.output] = from.output
          records.set(from.stage, rec)
          dirs.set(from.stage, dir)
        }
        const log = (msg: string) => !opts.quiet && process.stderr.write(`reproduce: ${msg}\n`)
        log(`re-running ${m.stage} in ${root}`)
        const out = join(root, 'out')
        // a manifest records no workDir or store (where a run lives); the re-run lives in `root`, storing nothing
        const rec = await runStage(def, { cfg: { ...cfg, workDir: root, store: { kind: 'none' } }, records, dirs, external, log, quiet: Boolean(opts.quiet) }, out)
        const cids: Record<string, CID> = {}
        for (const [name, rel] of Object.entries(rec.outputs)) {
          const p = join(out, rel)
          cids[name] = statSync(p).isDirectory() ? await store.addDirectory(p) : await store.addFile(p)
        }
        return cids
      } finally {
        if (!opts.keep) rmSync(root, { recursive: true, force: true })
      }
    },
    { stage: opts.stage },
  )
}
