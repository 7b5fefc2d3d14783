import { Instruct3Error } from '../util/errors.ts'
import type { ContentStore } from '../store/types.ts'
import { createBacalhauRunner, type BacalhauRunnerInit } from './bacalhau-runner.ts'
import { createLocalRunner, type LocalRunnerInit } from './local.ts'
import type { JobRunner } from './types.ts'

export type RunnerChoice =
  | ({ runner: 'local'; store: ContentStore } & Omit<LocalRunnerInit, 'store'>)
  | ({ runner: 'bacalhau'; bacalhauApi?: string } & Omit<BacalhauRunnerInit, 'apiUrl'>)

/** Default orchestrator API: $INSTRUCT3_BACALHAU_API, else Bacalhau's default (port 1234 on this host). */
export function defaultBacalhauApi(): string {
  return process.env.INSTRUCT3_BACALHAU_API ?? 'http://127.0.0.1:1234'
}

/** What `--runner local|bacalhau` picks: the embedded child-process runner (default) or a Bacalhau network. */
export function createJobRunner(choice: RunnerChoice): JobRunner {
  if (choice.runner === 'local') return createLocalRunner(choice)
  if (choice.runner === 'bacalhau') return createBacalhauRunner({ ...choice, apiUrl: choice.bacalhauApi ?? defaultBacalhauApi() })
  throw new Instruct3Error(`unknown runner "${(choice as { runner: unknown }).runner}" (local or bacalhau)`, { code: 'ECONFIG', details: { field: 'runner' } })
}
