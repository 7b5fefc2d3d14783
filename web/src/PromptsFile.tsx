// Prompts for a new campaign from a file the browser reads (nothing is read on the server): JSONL with
// {"prompt": "..."} or a JSON string per line, a JSON array of strings, or plain text with one prompt per line.
import { useState, type ChangeEvent } from 'react'

/** Parse a prompts file; the error names the line. */
export function parsePromptsFile(text: string): string[] {
  const t = text.trim()
  if (t.startsWith('[')) {
    const arr = JSON.parse(t) as unknown
    if (!Array.isArray(arr) || arr.some((p) => typeof p !== 'string' || !p.trim())) throw new Error('prompts file: a JSON array must hold non-empty strings')
    return arr as string[]
  }
  const out: string[] = []
  const lines = t.split(/\r?\n/)
  const jsonl = lines.some((l) => /^\s*[{"]/.test(l))
  lines.forEach((line, i) => {
    if (!line.trim()) return
    if (!jsonl) return void out.push(line.trim())
    let v: unknown
    try {
      v = JSON.parse(line)
    } catch {
      throw new Error(`prompts file line ${i + 1}: not JSON`)
    }
    const p = typeof v === 'string' ? v : v && typeof v === 'object' ? (v as { prompt?: unknown }).prompt : undefined
    if (typeof p !== 'string' || !p.trim()) throw new Error(`prompts file line ${i + 1}: needs a non-empty "prompt" string`)
    out.push(p)
  })
  if (!out.length) throw new Error('prompts file: no prompts found')
  return out
}

export function PromptsFile({ onPrompts }: { onPrompts: (p: { name: string; prompts: string[] } | null) => void }) {
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null)
  const read = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0]
    if (!f) return onPrompts(null)
    try {
      if (f.size > 5_000_000) throw new Error('prompts file: larger than 5 MB')
      const prompts = parsePromptsFile(await f.text())
      onPrompts({ name: f.name, prompts })
      setMsg({ ok: true, text: `${prompts.length} prompts read from ${f.name}` })
    } catch (err) {
      onPrompts(null)
      setMsg({ ok: false, text: (err as Error).message })
    }
  }
  return (
    <div className="promptsfile">
      <label className="small">
        Prompts file (.jsonl, .json or .txt, read in your browser){' '}
        <input type="file" accept=".jsonl,.json,.txt,application/json,text/plain" onChange={read} data-testid="prompts-file" />
      </label>
      {msg ? (
        <div className={`small ${msg.ok ? 'muted' : 'txerror'}`} role={msg.ok ? 'status' : 'alert'} data-testid="prompts-file-status">
          {msg.text}
        </div>
      ) : null}
    </div>
  )
}
