// The pipeline config's label batches (labels.batches): every bad entry is an error naming its field.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mergeConfig, demoConfig } from '../../src/pipeline/config.ts'
import { activeStages } from '../../src/pipeline/stages.ts'

const withBatches = (batches: unknown) => mergeConfig(demoConfig(), { labels: { batches } })

test('label batches in the config: checked by field; the labels stages run only when there are some', () => {
  assert.throws(() => withBatches([{ source: 'exports/c_1', origin: 'crowd', campaign: 'c_1' }]), /field "labels\.batches\[0\]\.origin": must be one of human, simulated-labeler, synthetic/)
  assert.throws(() => withBatches([{ source: 'exports/c_1', origin: 'human' }]), /field "labels\.batches\[0\]\.campaign": must name the labeling campaign/)
  assert.throws(() => withBatches([{ source: '', origin: 'human', campaign: 'c_1' }]), /field "labels\.batches\[0\]\.source"/)
  assert.throws(() => withBatches([{ source: 'x', origin: 'human', campaign: 'c_1', paid: true }]), /field "labels\.batches\[0\]\.paid": unknown key/)
  assert.throws(() => withBatches('exports/c_1'), /field "labels\.batches"/)
  const none = activeStages(demoConfig()).map((s) => s.name)
  assert.ok(!none.includes('labels') && !none.includes('reward-labels'))
  const some = activeStages(withBatches([{ source: 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi', origin: 'human', campaign: 'c_1' }])).map((s) => s.name)
  assert.ok(some.includes('labels') && some.indexOf('reward-labels') > some.indexOf('labels'))
})
