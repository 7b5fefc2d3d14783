import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256, toHex, type Hex } from 'viem'
import { createVerifier } from '../../src/labeling/verify-pool.ts'
import { labelTypedData } from '../../src/labeling/typed.ts'
import { wallet } from './helpers.ts'

/** Resolves to 'hung' if `p` has not settled within `ms`. */
const settleWithin = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then((v) => ({ v }), (e: Error) => ({ e })), new Promise<'hung'>((r) => setTimeout(() => r('hung'), ms).unref())])

test('verify pool: a crashed worker fails only its own request and is replaced', async () => {
  const v = createVerifier(1)
  try {
    const w = wallet('pool')
    const m = { contentHash: keccak256(toHex('label')), campaign: 'c_1', taskId: 7n, guidelinesVersion: 1n }
    const sig = (await w.signTypedData(labelTypedData(31337, m))) as Hex
    assert.equal(await v.verify(31337, w.address, m, sig), true)
    // A taskId the worker cannot parse (BigInt('not-a-number') throws there) kills the worker thread.
    const poison = { ...m, taskId: { toString: () => 'not-a-number' } as unknown as bigint }
    const crashed = await settleWithin(v.verify(31337, w.address, poison, sig), 10_000)
    assert.notEqual(crashed, 'hung', 'the request on the crashed worker must settle, not hang')
    assert.ok('e' in (crashed as object), 'and it fails (the caller answers 503)')
    // The pool keeps serving: the next verifications run on a fresh worker.
    const after = await settleWithin(v.verify(31337, w.address, m, sig), 10_000)
    assert.deepEqual(after, { v: true })
    assert.deepEqual(await settleWithin(v.verify(31337, wallet('other').address, m, sig), 10_000), { v: false })
    // Poison batched with good jobs (same tick, same worker message): only the poisoned one fails.
    const batch = await Promise.all([m, poison, m, m].map((x) => settleWithin(v.verify(31337, w.address, x, sig), 10_000)))
    assert.deepEqual(batch[0], { v: true })
    assert.ok('e' in (batch[1] as object), JSON.stringify(batch[1]))
    assert.deepEqual(batch.slice(2), [{ v: true }, { v: true }])
  } finally {
    await v.close()
  }
})
