import { useState } from 'react'
import type { TaskView } from '../../src/labeling/tasks.ts'

const STYLE_HELP: Record<string, string> = {
  plain: 'Plain: any realistic task, specific and self-contained.',
  few_shot: 'Few-shot: an instruction, then several example query/response pairs, then a new query.',
  user_based: 'User-based: a concrete use case a real user would bring (who they are, what they need).',
}

/** Write a prompt in the task's style (InstructGPT's plain / few-shot / user-based prompts). */
export function PromptTask({ task, busy, onSubmit }: { task: TaskView; busy: boolean; onSubmit: (prompt: string) => void }) {
  const [text, setText] = useState('')
  const ok = text.trim().length >= 10
  return (
    <section className="card" data-testid="prompt-task">
      <div className="row spread">
        <h2>Write a prompt</h2>
        <span className="chip role" data-testid="prompt-style">
          {task.style?.replace('_', '-')}
        </span>
      </div>
      <div className="prompt">
        <div className="label">Instructions</div>
        <div className="text">{task.prompt}</div>
      </div>
      <p className="small muted">{STYLE_HELP[task.style ?? 'plain']} Another labeler reviews it; accepted prompts become the next campaign’s prompts.</p>
      <textarea
        value={text}
        onChange={(e) => setText(e.target.value)}
        rows={8}
        placeholder="The prompt, exactly as a user would send it."
        data-testid="prompt-text"
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && ok) onSubmit(text)
        }}
      />
      <div className="row end">
        <span className="small muted">{text.length} characters (at least 10) · Ctrl+Enter to submit</span>
        <button className="primary" disabled={busy || !ok} onClick={() => onSubmit(text)} data-testid="prompt-submit">
          Sign &amp; submit
        </button>
      </div>
    </section>
  )
}
