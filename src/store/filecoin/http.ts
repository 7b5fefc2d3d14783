import { Instruct3Error } from '../../util/errors.ts'

/** fetch with a timeout; network failures and non-2xx answers become Instruct3Errors naming the service and URL. */
export async function request(service: string, url: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  let res: Response
  try {
    res = await fetch(url, { ...init, signal: init.signal ?? AbortSignal.timeout(init.timeoutMs ?? 120_000) })
  } catch (cause) {
    throw new Instruct3Error(`${service}: cannot reach ${new URL(url).origin} (${(cause as Error).message}${(cause as { cause?: Error }).cause ? `: ${(cause as { cause: Error }).cause.message}` : ""})`, { code: 'EUPLOAD', details: { url }, cause })
  }
  if (!res.ok) {
    const body = (await res.text().catch(() => '')).slice(0, 500)
    throw new Instruct3Error(`${service}: HTTP ${res.status} from ${new URL(url).pathname}${body ? `: ${body}` : ''}`, { code: 'EUPLOAD', details: { url, status: res.status } })
  }
  return res
}

export function requireEnv(env: NodeJS.ProcessEnv, name: string, service: string): string {
  const v = env[name]
  if (!v) throw new Instruct3Error(`${service}: environment variable ${name} is not set`, { code: 'ECONFIG', details: { field: name } })
  return v
}
