import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

const webRoot = fileURLToPath(new URL('.', import.meta.url))
export const webDist = join(webRoot, 'dist')

function newestSource(): number {
  let newest = 0
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) walk(p)
      else newest = Math.max(newest, statSync(p).mtimeMs)
    }
  }
  walk(join(webRoot, 'src'))
  for (const f of ['index.html', 'vite.config.ts']) newest = Math.max(newest, statSync(join(webRoot, f)).mtimeMs)
  // the browser-safe labeling modules the app bundles
  for (const f of ['client.ts', 'typed.ts', 'canonical.ts', 'content.ts']) newest = Math.max(newest, statSync(join(webRoot, '..', 'src', 'labeling', f)).mtimeMs)
  // the contracts' ABIs the on-chain pages encode calls with (regenerated when the contracts change)
  walk(join(webRoot, '..', 'src', 'chain', 'generated'))
  return newest
}

/** Build the web app into web/dist with Vite (programmatically), unless it is already built and newer than its sources. */
export async function buildWeb(opts: { force?: boolean } = {}): Promise<string> {
  const index = join(webDist, 'index.html')
  if (!opts.force && existsSync(index) && statSync(index).mtimeMs >= newestSource()) return webDist
  const { build } = await import('vite')
  await build({ configFile: join(webRoot, 'vite.config.ts'), root: webRoot, logLevel: 'warn' })
  return webDist
}

if (import.meta.main) console.log(await buildWeb({ force: true }))
