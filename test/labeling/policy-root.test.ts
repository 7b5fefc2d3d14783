import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApiClient } from '../../src/labeling/client.ts'
import { spawnLabelingServer } from '../../bench/loadgen.ts'
import { wallet } from './helpers.ts'

// `label serve --policy-sampler` loads each campaign's policy checkpoint folder; the policy string
// comes from API input, so only folders under --policy-root may be opened.
test('label serve --policy-sampler: a campaign policy outside --policy-root is refused, never opened', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i3-policy-root-'))
  const root = join(dir, 'runs')
  mkdirSync(join(root, 'empty-run'), { recursive: true })
  const req = wallet('policy-root-requester')
  const srv = await spawnLabelingServer(join(dir, 'labels.sqlite'), ['--requester', req.address, '--policy-sampler', '--policy-root', root])
  try {
    const c = createApiClient(srv.url)
    assert.equal((await c.signIn(req)).status, 200)
    for (const policy of ['/etc', '../../../../etc', join(dir)]) {
      const r = await c.call('POST', '/api/campaigns', { name: 'x', prompts: ['p'], policy, kinds: ['ranking'] })
      assert.equal(r.status, 400, `${policy}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`)
      assert.equal(r.body.error.details?.field, 'policy')
    }
    // A CID-like reference (no folder under the root) still works: outputs from the deterministic sampler.
    assert.equal((await c.call('POST', '/api/campaigns', { name: 'ok', prompts: ['p'], policy: 'bafy-policy', kinds: ['ranking'] })).status, 201)
  } finally {
    await srv.stop()
    rmSync(dir, { recursive: true, force: true })
  }
})
