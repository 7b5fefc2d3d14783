import type { ReactNode } from 'react'

/**
 * A small, safe markdown renderer for campaign guidelines: headings (#, ##, ###), bullet lists (-),
 * paragraphs, **bold**, *italic* and `code`. It builds React elements (never raw HTML), so
 * requester-written markdown cannot inject markup or scripts into a labeler's page.
 */
export function Markdown({ text }: { text: string }) {
  const blocks: ReactNode[] = []
  let list: string[] = []
  let para: string[] = []
  const flush = () => {
    if (para.length) blocks.push(<p key={blocks.length}>{inline(para.join(' '))}</p>)
    if (list.length) blocks.push(<ul key={blocks.length}>{list.map((li, i) => <li key={i}>{inline(li)}</li>)}</ul>)
    para = []
    list = []
  }
  for (const line of text.split('\n')) {
    const h = /^(#{1,3})\s+(.*)$/.exec(line)
    const li = /^\s*[-*]\s+(.*)$/.exec(line)
    if (h) {
      flush()
      const level = h[1].length
      blocks.push(level === 1 ? <h3 key={blocks.length}>{inline(h[2])}</h3> : <h4 key={blocks.length}>{inline(h[2])}</h4>)
    } else if (li) {
      if (para.length) flush()
      list.push(li[1])
    } else if (!line.trim()) flush()
    else if (list.length && /^\s+/.test(line)) list[list.length - 1] += ' ' + line.trim() // continuation of a list item
    else {
      if (list.length) flush()
      para.push(line.trim())
    }
  }
  flush()
  return <div className="md">{blocks}</div>
}

/** **bold**, *italic*, `code` inside a line. */
function inline(s: string): ReactNode[] {
  const out: ReactNode[] = []
  const re = /(\*\*[^*]+\*\*|\*[^*]+\*|`[^`]+`)/g
  let last = 0
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) out.push(s.slice(last, m.index))
    const t = m[0]
    if (t.startsWith('**')) out.push(<b key={m.index}>{t.slice(2, -2)}</b>)
    else if (t.startsWith('`')) out.push(<code key={m.index}>{t.slice(1, -1)}</code>)
    else out.push(<i key={m.index}>{t.slice(1, -1)}</i>)
    last = m.index + t.length
  }
  if (last < s.length) out.push(s.slice(last))
  return out
}
