import { useEffect } from 'react'
import { api } from './api.ts'

/**
 * Activity heartbeats for time on task (src/labeling/timing.ts): while a task is shown, every
 * `intervalMs` the app sends POST /api/tasks/:id/activity if the tab is visible and the labeler
 * typed, clicked, scrolled or moved the pointer since the last beat. No beat means idle: the
 * server excludes gaps longer than its idle threshold from time on task.
 */
export function useActivityHeartbeat(taskId: number | null, intervalMs = 15_000): void {
  useEffect(() => {
    if (taskId === null) return
    let active = false
    const mark = () => {
      active = true
    }
    const events = ['keydown', 'pointerdown', 'pointermove', 'wheel', 'scroll', 'input'] as const
    for (const e of events) window.addEventListener(e, mark, { passive: true, capture: true })
    const timer = setInterval(() => {
      if (!active || document.visibilityState !== 'visible') return
      active = false
      api('POST', `/api/tasks/${taskId}/activity`, {}).catch(() => {}) // a lost beat only undercounts
    }, intervalMs)
    return () => {
      clearInterval(timer)
      for (const e of events) window.removeEventListener(e, mark, { capture: true })
    }
  }, [taskId, intervalMs])
}
