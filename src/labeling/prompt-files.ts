import { readJsonl } from '../util/jsonl.ts'
import { Instruct3Error } from '../util/errors.ts'
import type { GoldItem } from './campaigns.ts'

/**
 * Local prompt and gold files, read by the CLI (never by the HTTP server: the API takes prompts and
 * gold inline, so no request can make the server open a path). Errors name the file, line and field.
 */

/** Prompts JSONL: `{"prompt": "..."}` or a JSON string per line. */
export async function readPromptsFile(path: string): Promise<string[]> {
  const out: string[] = []
  for await (const row of readJsonl<unknown>(path)) {
    const v = row.value
    const p = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { prompt?: unknown }).prompt : undefined
    if (typeof p !== 'string' || p.trim() === '') throw new Instruct3Error('each line needs a non-empty "prompt" string', { code: 'EBADPROMPTS', details: { file: path, line: row.line, field: 'prompt' } })
    out.push(p)
  }
  return out
}

/** Gold JSONL: `{"prompt", "responses": [k strings], "ranking": [k ranks]}` per line (checked by createCampaign). */
export async function readGoldFile(path: string): Promise<GoldItem[]> {
  const out: GoldItem[] = []
  for await (const row of readJsonl<GoldItem>(path)) {
    if (row.value === null || typeof row.value !== 'object' || Array.isArray(row.value)) throw new Instruct3Error('each line must be a {prompt, responses, ranking} object', { code: 'EBADGOLD', details: { file: path, line: row.line } })
    out.push(row.value)
  }
  return out
}
