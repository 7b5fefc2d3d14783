import type { Hex } from 'viem'
import { createSiweMessage } from 'viem/siwe'
import { contentHash } from './canonical.ts'
import type { LabelContent } from './content.ts'
import { labelMessage, labelTypedData } from './typed.ts'
import type { TaskView } from './tasks.ts'

/**
 * A small HTTP client for the labeling API (Node: keeps the session cookie itself; a browser
 * would use credentials). Used by tests, the benchmark's load process and scripts.
 */
export type Signer = {
  address: Hex
  signMessage(a: { message: string }): Promise<Hex>
  signTypedData(td: ReturnType<typeof labelTypedData>): Promise<Hex>
}

export type ApiResponse<T = any> = { status: number; body: T }

export function createApiClient(baseUrl: string) {
  let cookie = ''
  async function call<T = any>(method: string, path: string, json?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(baseUrl + path, {
      method,
      headers: { ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...(cookie ? { cookie } : {}), ...headers },
      body: json === undefined ? undefined : typeof json === 'string' ? json : JSON.stringify(json),
    })
    const set = res.headers.get('set-cookie')
    if (set) cookie = set.split(';')[0]
    const text = await res.text()
    let body: any = text
    try {
      body = JSON.parse(text)
    } catch {}
    return { status: res.status, body }
  }
  return {
    call,
    get cookie() {
      return cookie
    },
    set cookie(v: string) {
      cookie = v
    },
    /** EIP-4361 sign-in: nonce -> message -> personal_sign -> verify (sets the session cookie). */
    async signIn(signer: Signer, opts: { chainId?: number; expirationTime?: Date; domain?: string; issuedAt?: Date } = {}) {
      const { body } = await call<{ nonce: string }>('GET', '/api/auth/nonce')
      const u = new URL(baseUrl)
      const message = createSiweMessage({
        address: signer.address,
        chainId: opts.chainId ?? 31337,
        domain: opts.domain ?? u.host,
        nonce: body.nonce,
        uri: `${u.protocol}//${opts.domain ?? u.host}/`,
        version: '1',
        statement: 'Sign in to instruct3 labeling.',
        issuedAt: opts.issuedAt ?? new Date(),
        ...(opts.expirationTime ? { expirationTime: opts.expirationTime } : {}),
      })
      const signature = await signer.signMessage({ message })
      const r = await call('POST', '/api/auth/verify', { message, signature })
      return { ...r, message, signature }
    },
  }
}

export type ApiClient = ReturnType<typeof createApiClient>

/** Build the label content for a task (the labeler address is lowercased, as the server requires). */
export function makeLabel(task: Pick<TaskView, 'campaign' | 'taskId' | 'taskHash' | 'kind' | 'guidelines'>, labeler: string, body: Partial<LabelContent>): LabelContent {
  const guidelines = { version: task.guidelines.version, hash: task.guidelines.hash as Hex }
  return { v: 2, campaign: task.campaign, taskId: task.taskId, taskHash: task.taskHash as Hex, kind: task.kind, labeler: labeler.toLowerCase() as Hex, guidelines, ...body }
}

/** Hash and EIP-712-sign a label (the typed message carries the guidelines version the content names). */
export async function signLabel(signer: Pick<Signer, 'signTypedData'>, chainId: number, content: LabelContent): Promise<{ labelHash: Hex; signature: Hex }> {
  const labelHash = contentHash(content)
  const signature = await signer.signTypedData(labelTypedData(chainId, labelMessage(content, labelHash)))
  return { labelHash, signature }
}
