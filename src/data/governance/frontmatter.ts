/**
 * Front matter of EIP/ERC-style markdown: a `---` fenced block of `key: value` lines at the top.
 * The subset EIPs use (no nesting); `- item` lines continue the previous key as a list. Errors
 * name the file and the line of the problem.
 */
import { Instruct3Error } from '../../util/errors.ts'

export type FrontMatter = { data: Record<string, string>; body: string; bodyLine: number }

function unquote(v: string): string {
  const t = v.trim()
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1)
  return t
}

export function parseFrontMatter(text: string, file = '<markdown>'): FrontMatter {
  const lines = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split('\n')
  if (lines[0]?.trim() !== '---') throw new Instruct3Error('missing front matter (first line must be ---)', { code: 'EMARKDOWN', details: { file, line: 1 } })
  const data: Record<string, string> = {}
  let last: string | undefined
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]
    if (line.trim() === '---') return { data, body: lines.slice(i + 1).join('\n').replace(/^\n+/, ''), bodyLine: i + 2 }
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const item = line.match(/^\s+-\s+(.*)$|^-\s+(.*)$/)
    if (item && last) {
      const v = unquote(item[1] ?? item[2])
      data[last] = data[last] ? `${data[last]}, ${v}` : v
      continue
    }
    const m = line.match(/^([A-Za-z0-9_-]+)\s*:\s?(.*)$/)
    if (!m) throw new Instruct3Error(`front matter line is not "key: value": ${JSON.stringify(line.slice(0, 60))}`, { code: 'EMARKDOWN', details: { file, line: i + 1 } })
    if (m[1] in data) throw new Instruct3Error(`duplicate front matter key "${m[1]}"`, { code: 'EMARKDOWN', details: { file, line: i + 1, field: m[1] } })
    data[m[1]] = unquote(m[2])
    last = m[1]
  }
  throw new Instruct3Error('front matter is not closed (no second ---)', { code: 'EMARKDOWN', details: { file, line: lines.length } })
}
