import { CID } from 'multiformats/cid'

/** A CID string (`bafy...`, `Qm...`), or undefined for anything else (a path): configs name a model or data either way. */
export function parseCid(s: string): CID | undefined {
  if (s.includes('/') || s.startsWith('.')) return undefined
  try {
    return CID.parse(s)
  } catch {
    return undefined
  }
}
