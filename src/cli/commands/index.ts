import type { Command } from 'commander'
// Each area registers its own subcommands in its own file.
import { register as model } from './model.ts'
import { register as store } from './store.ts'
import { register as label } from './label.ts'
import { register as chain } from './chain.ts'
import { register as job } from './job.ts'
import { register as data } from './data.ts'
import { register as pipeline } from './pipeline.ts'
import { register as train } from './train.ts'
import { register as tokenizer } from './tokenizer.ts'

export const commands: Array<(program: Command) => void> = [data, tokenizer, train, model, pipeline, store, label, chain, job]
