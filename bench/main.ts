// `npm run bench -- <name> [args]`: benchmarks print numbers and ratios against a baseline
// measured in the same run. Each benchmark lives in bench/<name>.ts and exports `run(args)`.
const [name, ...args] = process.argv.slice(2)
const known = ['train', 'generate', 'store', 'label', 'ingest', 'ppo', 'reward', 'tokenizer']
if (!name || !known.includes(name)) {
  console.error(`usage: npm run bench -- <${known.join('|')}> [args]`)
  process.exit(2)
}
const mod = (await import(`./${name}.ts`)) as { run(args: string[]): Promise<void> }
await mod.run(args)
