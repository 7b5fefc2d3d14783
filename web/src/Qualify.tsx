import { useEffect, useState } from 'react'
import { api } from './api.ts'

type Quiz = { attempt: string; category: string; passScore: number; questions: Array<{ id: string; question: string; options: string[] }> }
type Result = { score: number; of: number; passed: boolean; retryAt?: number }
export type CategoryInfo = { id: string; name: string; quizQuestions: number; passScore: number; qualified: boolean; level: number; levelName: string | null }

/**
 * The qualification quiz for one category: start it, pick one option per question, submit once.
 * The server grades it (answers never reach the browser) and enforces the retry cooldown.
 */
export function QualifyPanel({ category, name, onQualified }: { category: string; name: string; onQualified: () => void }) {
  const [quiz, setQuiz] = useState<Quiz | null>(null)
  const [answers, setAnswers] = useState<number[]>([])
  const [result, setResult] = useState<Result | null>(null)
  const [err, setErr] = useState<string | null>(null)
  const start = async () => {
    setErr(null)
    setResult(null)
    try {
      const q = await api<Quiz>('POST', `/api/qualifications/${category}/quiz`, {})
      setQuiz(q)
      setAnswers(new Array(q.questions.length).fill(-1))
    } catch (e) {
      setErr((e as Error).message)
    }
  }
  const send = async () => {
    if (!quiz) return
    try {
      const r = await api<Result>('POST', `/api/qualifications/${category}/answers`, { attempt: quiz.attempt, answers })
      setResult(r)
      setQuiz(null)
      if (r.passed) onQualified()
    } catch (e) {
      setErr((e as Error).message)
    }
  }
  return (
    <section className="card" data-testid="qualify">
      <h2>Qualify for {name}</h2>
      <p className="muted">
        Tasks in this campaign go only to labelers qualified in <b>{name}</b>. Answer a short quiz with known answers; a failed attempt can be retried after an hour.
      </p>
      {err ? <div className="error">{err}</div> : null}
      {result ? (
        <div className={result.passed ? 'toast ok' : 'error'} data-testid="quiz-result">
          {result.passed ? `Passed: ${result.score}/${result.of}. You are now qualified in ${name}.` : `Not passed: ${result.score}/${result.of}. Retry after ${new Date(result.retryAt!).toLocaleTimeString()}.`}
        </div>
      ) : null}
      {!quiz && !result?.passed ? (
        <button className="primary" onClick={start} data-testid="quiz-start">
          Start the quiz
        </button>
      ) : null}
      {quiz ? (
        <div className="quiz">
          {quiz.questions.map((q, i) => (
            <fieldset key={q.id} className="question" data-testid={`quiz-q-${i}`}>
              <legend>
                {i + 1}. {q.question}
              </legend>
              {q.options.map((o, j) => (
                <label key={j} className="option">
                  <input type="radio" name={q.id} checked={answers[i] === j} onChange={() => setAnswers(answers.map((a, k) => (k === i ? j : a)))} data-testid={`quiz-q-${i}-o-${j}`} /> {o}
                </label>
              ))}
            </fieldset>
          ))}
          <div className="row end">
            <span className="small muted">Pass with {quiz.passScore} of {quiz.questions.length}.</span>
            <button className="primary" disabled={answers.some((a) => a < 0)} onClick={send} data-testid="quiz-submit">
              Submit answers
            </button>
          </div>
        </div>
      ) : null}
    </section>
  )
}

/** Chips for the categories a labeler holds, with their level (qualified, expert), and the ones they do not, greyed. */
export function CategoriesHeld() {
  const [cats, setCats] = useState<CategoryInfo[] | null>(null)
  useEffect(() => {
    api<{ categories: CategoryInfo[] }>('GET', '/api/categories').then((r) => setCats(r.categories), () => setCats([]))
  }, [])
  if (!cats) return null
  return (
    <div className="badges" data-testid="categories-held">
      {cats.map((c) => (
        <span key={c.id} className={c.qualified ? 'chip ok' : 'chip soft'} title={c.qualified ? 'qualified' : 'not qualified yet: open a campaign of this category to take its quiz'}>
          {c.qualified ? '✓ ' : ''}
          {c.name}
          {c.levelName ? ` · ${c.levelName}` : ''}
        </span>
      ))}
    </div>
  )
}
