import type { Command } from 'commander'
import { resolve } from 'node:path'
import { Instruct3Error } from '../../util/errors.ts'

/**
 * `instruct3 job ...`: stage jobs as Bacalhau jobs. validate/local work offline; submit/status/logs/results/stop
 * talk to a Bacalhau orchestrator (--bacalhau-api, default $INSTRUCT3_BACALHAU_API or http://127.0.0.1:1234).
 * Modules load lazily so `instruct3 --help` stays fast.
 */
export function register(program: Command): void {
  const job = program
    .command('job')
    .description('pipeline stages as jobs (inputs/outputs by CID): validate, run locally, or submit to Bacalhau')

  job
    .command('validate')
    .argument('<file>', 'a stage spec JSON ({"stage": ...}) or a Bacalhau job JSON ({"Tasks": [...]} or {"Job": {...}})')
    .description("check a job against instruct3's spec rules and Bacalhau's own job model rules")
    .option('--print', 'print the Bacalhau job JSON that would be submitted')
    .action(async (file: string, o: { print?: boolean }) => {
      const { job: bjob, warnings } = await loadForSubmit(file)
      for (const w of warnings) console.error(`warning: ${w}`)
      if (o.print) console.log(JSON.stringify({ Job: bjob }, null, 2))
      else console.log(`${file}: valid Bacalhau ${(bjob as { Type: string }).Type} job`)
    })

  job
    .command('local')
    .argument('<file>', 'a stage spec JSON')
    .description('run a stage spec here in a child process: inputs from the local store, /outputs added back to it')
    .option('--log-dir <dir>', 'where the job log goes (default <data dir>/jobs/logs)')
    .option('--keep-work', 'keep the temporary work directory (inputs/, outputs/)')
    .option('--quiet', 'do not echo the job output')
    .action(async (file: string, o: { logDir?: string; keepWork?: boolean; quiet?: boolean }) => {
      const { readJobFile } = await import('../../jobs/spec.ts')
      const { createLocalRunner } = await import('../../jobs/local.ts')
      const { defaultStore } = await import('../../store/index.ts')
      const f = readJobFile(resolve(file))
      if (f.kind !== 'stage') throw new Instruct3Error('`job local` runs stage specs ({"stage": ...}), not raw Bacalhau jobs', { details: { file } })
      const store = await defaultStore()
      try {
        const runner = createLocalRunner({ store, logDir: o.logDir ? resolve(o.logDir) : undefined, keepWorkDir: o.keepWork })
        const r = await runner.run(f.spec, {
          onLog: o.quiet ? undefined : (l) => (l.stream === 'stderr' ? process.stderr : process.stdout).write(`${l.line}\n`),
        })
        console.error(`job ${r.jobId}: ${r.state}${r.message ? ` (${r.message})` : ''}; log ${r.logFile}`)
        if (r.state !== 'Completed') throw failure(r.stage, r.jobId, r.message, r.logTail)
        console.log(r.outputs)
      } finally {
        await store.close()
      }
    })

  job
    .command('submit')
    .argument('<file>', 'a stage spec JSON or a Bacalhau job JSON')
    .description('validate, then submit to a Bacalhau orchestrator (PUT /api/v1/orchestrator/jobs); prints the job ID')
    .option('--bacalhau-api <url>', 'orchestrator API URL')
    .option('--wait', 'wait for the job to finish; print the outputs CID')
    .option('--follow', 'with --wait: stream the job logs')
    .option('--poll <ms>', 'state poll interval with --wait', '2000')
    .action(async (file: string, o: { bacalhauApi?: string; wait?: boolean; follow?: boolean; poll: string }) => {
      const { job: bjob, warnings } = await loadForSubmit(file)
      for (const w of warnings) console.error(`warning: ${w}`)
      const client = await clientFor(o.bacalhauApi)
      const r = await client.submit(bjob as never)
      for (const w of r.warnings) if (!warnings.includes(w)) console.error(`warning (orchestrator): ${w}`)
      console.log(r.jobId)
      if (!o.wait) return
      const follow = o.follow ? client.logs(r.jobId, { follow: true, onLine: printLine }).catch(() => {}) : Promise.resolve()
      const st = await client.wait(r.jobId, { pollMs: Number(o.poll), onState: (s) => console.error(`job ${r.jobId}: ${s.state}${s.message ? ` (${s.message})` : ''}`) })
      await follow
      if (st.state !== 'Completed') {
        const ex = (await client.executions(r.jobId)).at(-1)
        throw failure('', r.jobId, st.message || ex?.message, tailOf(ex))
      }
      console.log((await client.resultCid(r.jobId)) ?? '(no ipfs result)')
    })

  job
    .command('status')
    .argument('<id>', 'job ID (or name)')
    .description("a job's state and its executions (execution states decoded from Bacalhau's integers)")
    .option('--bacalhau-api <url>', 'orchestrator API URL')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { bacalhauApi?: string; json?: boolean }) => {
      const client = await clientFor(o.bacalhauApi)
      const st = await client.status(id)
      const execs = await client.executions(id)
      if (o.json) {
        console.log(JSON.stringify({ jobId: st.jobId, name: st.name, state: st.state, message: st.message, executions: execs }, null, 2))
        return
      }
      console.log(`${st.jobId} ${st.name}: ${st.state}${st.message ? ` (${st.message})` : ''}`)
      for (const e of execs) {
        const cid = e.published?.Params?.CID
        console.log(`  execution ${e.id} on ${e.nodeId || '?'}: ${e.state} (desired ${e.desiredState})${e.exitCode !== undefined ? ` exit ${e.exitCode}` : ''}${cid ? ` -> ${cid}` : ''}${e.message ? ` ${e.message}` : ''}`)
      }
    })

  job
    .command('logs')
    .argument('<id>', 'job ID')
    .description("print a job's logs (websocket stream; falls back to the executions' recorded output)")
    .option('--bacalhau-api <url>', 'orchestrator API URL')
    .option('--follow', 'keep streaming until the job ends')
    .option('--execution <id>', 'only this execution')
    .action(async (id: string, o: { bacalhauApi?: string; follow?: boolean; execution?: string }) => {
      const client = await clientFor(o.bacalhauApi)
      let got = false
      try {
        await client.logs(id, { follow: o.follow, executionId: o.execution, onLine: (l) => ((got = true), printLine(l)) })
      } catch (e) {
        if (got) throw e
        const execs = (await client.executions(id)).filter((x) => !o.execution || x.id === o.execution)
        for (const ex of execs) {
          if (ex.stdout) process.stdout.write(ex.stdout)
          if (ex.stderr) process.stderr.write(ex.stderr)
        }
      }
    })

  job
    .command('results')
    .argument('<id>', 'job ID')
    .description('the published results (the ipfs publisher gives the /outputs CID)')
    .option('--bacalhau-api <url>', 'orchestrator API URL')
    .option('--json', 'print the raw result specs')
    .action(async (id: string, o: { bacalhauApi?: string; json?: boolean }) => {
      const client = await clientFor(o.bacalhauApi)
      const items = await client.results(id)
      if (o.json) return console.log(JSON.stringify(items, null, 2))
      if (items.length === 0) throw new Instruct3Error(`job ${id} has no published results (yet)`, { code: 'ENORESULT', details: { jobId: id } })
      for (const it of items) console.log(it.Type === 'ipfs' ? String(it.Params?.CID) : `${it.Type} ${JSON.stringify(it.Params ?? {})}`)
    })

  job
    .command('pipeline')
    .argument('<file>', 'JSON: an array of stage specs (or {"stages": [...]}); an input {"name", "from": "<stage>"} reads that stage\'s outputs')
    .description('run stage jobs in order, each consuming earlier outputs by CID; stops at the first failure and keeps finished stages')
    .option('--runner <kind>', 'local (embedded store, child processes) or bacalhau', 'local')
    .option('--bacalhau-api <url>', 'orchestrator API URL (with --runner bacalhau)')
    .option('--poll <ms>', 'state poll interval (bacalhau)', '2000')
    .option('--quiet', 'do not echo job output')
    .action(async (file: string, o: { runner: string; bacalhauApi?: string; poll: string; quiet?: boolean }) => {
      const { readFileSync } = await import('node:fs')
      const { createJobRunner } = await import('../../jobs/runner.ts')
      const { runPipelineJobs, pipelineFailure } = await import('../../jobs/pipeline.ts')
      let parsed: unknown
      try {
        parsed = JSON.parse(readFileSync(resolve(file), 'utf8'))
      } catch (cause) {
        throw new Instruct3Error(`cannot read pipeline file: ${(cause as Error).message}`, { code: 'EJOBSPEC', details: { file }, cause })
      }
      const stages = Array.isArray(parsed) ? parsed : (parsed as { stages?: unknown })?.stages
      if (!Array.isArray(stages)) throw new Instruct3Error('expected an array of stage specs or {"stages": [...]}', { code: 'EJOBSPEC', details: { file } })
      if (o.runner !== 'local' && o.runner !== 'bacalhau') throw new Instruct3Error(`unknown runner "${o.runner}" (local or bacalhau)`, { details: { field: 'runner' } })
      const store = o.runner === 'local' ? await (await import('../../store/index.ts')).defaultStore() : undefined
      try {
        const runner = store ? createJobRunner({ runner: 'local', store }) : createJobRunner({ runner: 'bacalhau', bacalhauApi: o.bacalhauApi, pollMs: Number(o.poll) })
        const r = await runPipelineJobs(stages, runner, {
          onLog: o.quiet ? undefined : (stage, l) => (l.stream === 'stderr' ? process.stderr : process.stdout).write(`[${stage}] ${l.line}\n`),
          onStage: (stage, res) => console.error(res ? `stage ${stage}: ${res.state}${res.jobId ? ` (job ${res.jobId})` : ''}` : `stage ${stage}: starting`),
        })
        const err = pipelineFailure(r)
        if (err) throw err
        for (const st of r.stages) console.log(`${st.stage}\t${st.jobId}\t${st.outputs}`)
      } finally {
        await store?.close()
      }
    })

  job
    .command('stop')
    .argument('<id>', 'job ID')
    .description('stop a job (DELETE /api/v1/orchestrator/jobs/{id})')
    .option('--bacalhau-api <url>', 'orchestrator API URL')
    .option('--reason <text>', 'recorded with the stop')
    .action(async (id: string, o: { bacalhauApi?: string; reason?: string }) => {
      const client = await clientFor(o.bacalhauApi)
      const r = await client.stop(id, o.reason)
      console.log(`stopped ${id}${r.evaluationId ? ` (evaluation ${r.evaluationId})` : ''}`)
    })
}

async function loadForSubmit(file: string): Promise<{ job: unknown; warnings: string[] }> {
  const { readJobFile, toBacalhauJob } = await import('../../jobs/spec.ts')
  const { assertValidBacalhauJob } = await import('../../jobs/validate.ts')
  const path = resolve(file)
  const f = readJobFile(path)
  const job = f.kind === 'stage' ? toBacalhauJob(f.spec) : f.job
  const report = assertValidBacalhauJob(job, file)
  return { job, warnings: report.warnings }
}

async function clientFor(api?: string) {
  const { createBacalhauClient } = await import('../../jobs/bacalhau.ts')
  const { defaultBacalhauApi } = await import('../../jobs/runner.ts')
  return createBacalhauClient({ apiUrl: api ?? defaultBacalhauApi() })
}

function printLine(l: { stream: 'stdout' | 'stderr'; line: string }): void {
  ;(l.stream === 'stderr' ? process.stderr : process.stdout).write(`${l.line}\n`)
}

function tailOf(ex?: { stdout?: string; stderr?: string }): string[] {
  const lines = [...(ex?.stdout ?? '').split('\n'), ...(ex?.stderr ?? '').split('\n').map((l) => (l ? `[stderr] ${l}` : l))]
  return lines.filter((l) => l !== '').slice(-20)
}

function failure(stage: string, jobId: string, message: string | undefined, tail: string[]): Instruct3Error {
  const head = `job ${jobId}${stage ? ` (${stage})` : ''} did not complete: ${message ?? 'no reason given'}`
  const body = tail.length > 0 ? `\nlast log lines:\n${tail.map((l) => `  | ${l}`).join('\n')}` : ''
  return new Instruct3Error(head + body, { code: 'EJOBFAILED', details: { jobId } })
}
