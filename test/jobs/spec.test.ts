import { test } from 'node:test'
import assert from 'node:assert/strict'
import { toBacalhauJob, assertStageSpec, checkStageSpec } from '../../src/jobs/spec.ts'
import { validateBacalhauJob, assertValidBacalhauJob } from '../../src/jobs/validate.ts'
import { parseBytes, parseCpu, parseGpu } from '../../src/jobs/quantities.ts'
import { executionStateName } from '../../src/jobs/bacalhau-model.ts'
import { Instruct3Error } from '../../src/util/errors.ts'
import type { StageJobSpec } from '../../src/jobs/types.ts'

const CID_A = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy'
const CID_B = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi'

const spec: StageJobSpec = {
  name: 'instruct3-sft-abc123',
  stage: 'sft',
  image: 'ghcr.io/instruct3/trainer:0.1.0',
  args: ['train', 'sft', '--data', '/inputs/data', '--init', '/inputs/base', '--out', '/outputs'],
  inputs: [
    { name: 'data', cid: CID_A },
    { name: 'base', cid: CID_B },
  ],
  resources: { cpu: '2', memory: '4gb', gpu: 1, disk: '10gb' },
  timeouts: { executionSeconds: 3600, queueSeconds: 600, totalSeconds: 7200 },
  env: { INSTRUCT3_SEED: '7' },
}

test('toBacalhauJob emits a batch docker job with ipfs inputs, ipfs publisher and /outputs', () => {
  const job = toBacalhauJob(spec)
  assert.equal(job.Type, 'batch')
  assert.equal(job.Count, 1)
  assert.equal(job.Namespace, 'default')
  assert.equal(job.Name, 'instruct3-sft-abc123')
  const t = job.Tasks[0]
  assert.equal(t.Engine.Type, 'docker')
  assert.deepEqual(t.Engine.Params, {
    Image: 'ghcr.io/instruct3/trainer:0.1.0',
    Parameters: spec.args,
    EnvironmentVariables: ['INSTRUCT3_SEED=7'],
  })
  assert.deepEqual(t.InputSources, [
    { Alias: 'data', Target: '/inputs/data', Source: { Type: 'ipfs', Params: { CID: CID_A } } },
    { Alias: 'base', Target: '/inputs/base', Source: { Type: 'ipfs', Params: { CID: CID_B } } },
  ])
  assert.deepEqual(t.Publisher, { Type: 'ipfs', Params: {} })
  assert.deepEqual(t.ResultPaths, [{ Name: 'outputs', Path: '/outputs' }])
  assert.deepEqual(t.Resources, { CPU: '2', Memory: '4gb', Disk: '10gb', GPU: '1' })
  assert.deepEqual(t.Timeouts, { ExecutionTimeout: 3600, QueueTimeout: 600, TotalTimeout: 7200 })
  const report = validateBacalhauJob(JSON.parse(JSON.stringify(job)))
  assert.deepEqual(report, { ok: true, errors: [], warnings: [] })
})

test('stage spec errors name the field', () => {
  const issues = checkStageSpec({ ...spec, inputs: [{ name: '../x', cid: 'nope' }], resources: { cpu: 'two' }, env: { lower: 'x' } })
  const fields = issues.map((i) => i.field)
  assert.deepEqual(fields, ['inputs[0].name', 'inputs[0].cid', 'resources.cpu', 'env.lower'])
  assert.throws(
    () => assertStageSpec({ ...spec, timeouts: { executionSeconds: 10, totalSeconds: 5 } }, 'x.json'),
    (e: unknown) => e instanceof Instruct3Error && e.details.field === 'timeouts.totalSeconds' && e.message.startsWith('x.json'),
  )
  assert.throws(() => toBacalhauJob({ ...spec, image: '' }), /field "image"/)
})

function mutate(f: (j: any) => void): ReturnType<typeof validateBacalhauJob> {
  const j = JSON.parse(JSON.stringify(toBacalhauJob(spec)))
  f(j)
  return validateBacalhauJob(j)
}
const fieldsOf = (r: ReturnType<typeof validateBacalhauJob>) => r.errors.map((e) => `${e.field}: ${e.message}`)

test('validateBacalhauJob implements Bacalhau job/task rules with field paths', () => {
  assert.deepEqual(fieldsOf(mutate((j) => delete j.Type)), ['Job.Type: missing job type'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Type = 'cron'))), ['Job.Type: invalid job type: "cron"'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Count = -1))), ['Job.Count: job count must be >= 0'])
  assert.deepEqual(fieldsOf(mutate((j) => ((j.Type = 'ops'), (j.Count = 2)))), [
    'Job.Count: ops jobs cannot specify count > 1 as they run on all matching nodes',
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks = []))), ['Job.Tasks: missing job tasks'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Namespace = '  '))), ['Job.Namespace: job must be in a namespace'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Name = 'a\0b'))), ['Job.Name: job Name contains a null character'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Name = ' '))), ['Job.Tasks[0].Name: missing task name'])
  assert.deepEqual(fieldsOf(mutate((j) => delete j.Tasks[0].Engine)), ['Job.Tasks[0].Engine: invalid engine: nil spec config'])
  assert.match(fieldsOf(mutate((j) => (j.Tasks[0].Engine.Type = 'podman')))[0], /^Job.Tasks\[0\].Engine.Type: instruct3: unknown engine type/)
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Engine.Params.Image = ''))), [
    "Job.Tasks[0].Engine.Params.Image: invalid docker engine param: 'Image' cannot be empty",
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Engine.Params.WorkingDirectory = 'work'))), [
    `Job.Tasks[0].Engine.Params.WorkingDirectory: invalid docker engine param: 'WorkingDirectory' ("work") must contain absolute path`,
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Engine.Params.EnvironmentVariables = ['BACALHAU_X=1']))), [
    "Job.Tasks[0].Engine.Params.EnvironmentVariables[0]: invalid docker engine param: environment variable 'BACALHAU_X' cannot start with BACALHAU_",
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Env = { lower: 'x' }))), ["Job.Tasks[0].Env.lower: environment variable 'lower' must be uppercase"])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Env = { X: '' }))), ["Job.Tasks[0].Env.X: environment variable 'X' cannot have empty value"])
  // Inputs
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].InputSources[1].Target = ''))), ['Job.Tasks[0].InputSources[1].Target: input source is missing a target'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].InputSources[1].Target = '/inputs/data'))), [
    "Job.Tasks[0].InputSources[1].Target: input source with target '/inputs/data' already exists",
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].InputSources[1].Alias = 'data'))), [
    "Job.Tasks[0].InputSources[1].Alias: input source with alias 'data' already exists",
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].InputSources[0].Source.Params.CID = ''))), [
    'Job.Tasks[0].InputSources[0].Source.Params.CID: invalid ipfs params. cid cannot be empty',
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].InputSources[0].Source = { Type: '' }))), [
    'Job.Tasks[0].InputSources[0].Source.Type: invalid input source: missing spec type',
  ])
  // Results need a publisher; paths absolute and unique.
  assert.deepEqual(fieldsOf(mutate((j) => delete j.Tasks[0].Publisher)), ['Job.Tasks[0].Publisher: publisher must be set if result paths are set'])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].ResultPaths[0].Path = 'outputs'))), [
    'Job.Tasks[0].ResultPaths[0].Path: result path `outputs` must be absolute',
  ])
  assert.deepEqual(fieldsOf(mutate((j) => j.Tasks[0].ResultPaths.push({ Name: 'outputs', Path: '/outputs' }))), [
    "Job.Tasks[0].ResultPaths[1].Name: result path with name 'outputs' already exists",
    "Job.Tasks[0].ResultPaths[1].Path: result path '/outputs' already exists",
  ])
  // Resources and timeouts
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Resources = { CPU: '1.5x', Memory: '4 zb', GPU: '1.5', Disk: '10 GiB' }))), [
    'Job.Tasks[0].Resources.CPU: invalid CPU value: 1.5x',
    'Job.Tasks[0].Resources.Memory: invalid memory value: 4 zb',
    'Job.Tasks[0].Resources.GPU: invalid GPU value: 1.5',
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Timeouts = { ExecutionTimeout: -1 }))), [
    'Job.Tasks[0].Timeouts.ExecutionTimeout: invalid execution timeout value: -1s',
  ])
  assert.deepEqual(fieldsOf(mutate((j) => (j.Tasks[0].Timeouts = { ExecutionTimeout: 100, QueueTimeout: 10, TotalTimeout: 50 }))), [
    'Job.Tasks[0].Timeouts.TotalTimeout: execution timeout 100s and queue timeout 10s should be less than total timeout 50s',
  ])
  // Sanitised fields are warnings, not errors.
  const w = mutate((j) => ((j.ID = 'j-1'), (j.Version = 3), (j.Meta['bacalhau.org/x'] = '1'), j.Tasks.push(j.Tasks[0])))
  assert.equal(w.ok, true)
  assert.deepEqual(w.warnings, [
    'job version is ignored when submitting a job',
    'job ID is ignored when submitting a batch job',
    'job meta key "bacalhau.org/x" is reserved and will be ignored',
    'only one task is supported per job',
  ])
  assert.throws(
    () => assertValidBacalhauJob({ Type: 'batch', Tasks: [] }, 'job.json'),
    (e: unknown) => e instanceof Instruct3Error && e.details.field === 'Job.Tasks' && /job\.json/.test(e.message),
  )
})

test('resource strings parse like Bacalhau (k8sresource CPU, go-humanize bytes, uint GPU)', () => {
  assert.equal(parseCpu('500m'), 0.5)
  assert.equal(parseCpu('2'), 2)
  assert.equal(parseCpu('0.25'), 0.25)
  assert.equal(parseCpu('1.5m'), null)
  assert.equal(parseBytes('4gb'), 4e9)
  assert.equal(parseBytes('512 MiB'), 512 * 1024 * 1024)
  assert.equal(parseBytes('1Gi'), 1024 ** 3)
  assert.equal(parseBytes('1,000'), 1000)
  assert.equal(parseBytes('12'), 12)
  assert.equal(parseBytes('gb'), null)
  assert.equal(parseGpu('2'), 2)
  assert.equal(parseGpu('-1'), null)
  assert.equal(executionStateName(9), 'Completed')
  assert.equal(executionStateName(10), 'Failed')
  assert.equal(executionStateName(6), 'Running')
  assert.equal(executionStateName(42), 'Unknown(42)')
})

test('stageJob fills the image, a run-unique name and a total timeout; resources are the caller\'s', async () => {
  const { stageJob } = await import('../../src/jobs/stages.ts')
  const { checkPipeline } = await import('../../src/jobs/pipeline.ts')
  const stages = [
    stageJob({ stage: 'sft', runId: 'r1', args: ['sft', '--data', '/inputs/data', '--out', '/outputs'], inputs: [{ name: 'data', cid: CID_A }] }),
    stageJob({ stage: 'rm', runId: 'r1', args: ['rm', '--init', '/inputs/sft'], inputs: [{ name: 'sft', from: 'sft' }], resources: { cpu: '4', gpu: '1' }, timeouts: { executionSeconds: 3 * 3600 } }),
  ]
  assert.equal(stages[0].name, 'instruct3-r1-sft')
  assert.equal(stages[0].image, 'ghcr.io/instruct3/trainer:0.1.0')
  assert.deepEqual(stages[0].resources, {})
  assert.deepEqual(stages[1].resources, { cpu: '4', gpu: '1' })
  assert.deepEqual(stages[1].timeouts, { executionSeconds: 3 * 3600, totalSeconds: 4 * 3600 })
  const longer = stageJob({ stage: 'sft', runId: 'r1', args: [], inputs: [], timeouts: { executionSeconds: 20000 } })
  assert.deepEqual(longer.timeouts, { executionSeconds: 20000, totalSeconds: 23600 })
  checkPipeline(stages) // valid for Bacalhau
})
