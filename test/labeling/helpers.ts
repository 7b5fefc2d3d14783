import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyToAccount } from 'viem/accounts'
import { keccak256, toHex } from 'viem'
import { createLabelingServer, type LabelingServerOptions } from '../../src/labeling/server.ts'
import { createApiClient } from '../../src/labeling/client.ts'

/** Deterministic test wallets. */
export function wallet(name: string) {
  return privateKeyToAccount(keccak256(toHex('instruct3 test wallet ' + name)))
}

/** A clock tests can move forward (leases, sessions, nonces). */
export function testClock(start = Date.now()) {
  let t = start
  return { now: () => t, advance: (ms: number) => (t += ms) }
}

export async function startTestServer(opts: Partial<LabelingServerOptions> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'i3-label-'))
  const server = await createLabelingServer({ db: join(dir, 'labels.sqlite'), logger: false, rateLimit: false, exportDir: join(dir, 'exports'), ...opts })
  const { url } = await server.listen(0)
  return {
    server,
    url,
    dir,
    client: () => createApiClient(url),
    async close() {
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const PROMPTS = [
  'Explain what a reentrancy attack is.',
  'Summarise EIP-1559 in two sentences.',
  'What does SWC-107 describe?',
  'Why do DAOs use timelocks?',
]

/** A ranking that follows the deterministic sampler's intended order, with a tie at the bottom. */
export const GOOD_RANKING = [0, 1, 2, 3]

/** Debian's Chromium, which the web e2e tests drive through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium'

/** Headless Chromium with a throwaway profile at this viewport width; close `ctx`, then rm `profile`. */
export async function launchChromium(width: number, height = 1000) {
  const { chromium } = await import('playwright-core')
  const { mkdtempSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const { join } = await import('node:path')
  const profile = mkdtempSync(join(tmpdir(), 'i3-chromium-'))
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width, height },
  })
  return { ctx, profile }
}
