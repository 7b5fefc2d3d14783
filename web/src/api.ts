/** The signed-in labeler (POST /api/auth/verify). */
export type Me = { address: string; roles: string[] }
/** The service's public settings (GET /api/config). */
export type Config = { chainId: number; flags: string[]; openRoles: boolean }

/** Same-origin JSON calls; the session is an httpOnly cookie the browser sends itself. */
export class ApiFailure extends Error {
  status: number
  /** The API's error code (e.g. EUNQUALIFIED), when it sent one. */
  code: string | undefined
  constructor(status: number, message: string, code?: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export async function api<T = any>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: body !== undefined ? { 'content-type': 'application/json' } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json: any = null
  try {
    json = JSON.parse(text)
  } catch {}
  if (!res.ok) throw new ApiFailure(res.status, json?.error?.message ?? `${res.status} ${text.slice(0, 200)}`, json?.error?.code)
  return json as T
}
