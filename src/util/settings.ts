/**
 * Checking a trainer's settings, TRL-style: a config names only what it changes (a partial of the
 * trainer's defaults); a key the trainer does not have, or a value of the wrong type, is an error
 * naming the field (`ppo.kl.coef`) and the file, instead of being silently ignored.
 */
import { Instruct3Error } from './errors.ts'

export type SettingType = 'number' | 'string' | 'boolean' | 'object'

export type SettingsSchema = {
  /** Keys with no default value (optional settings), by type. */
  optional?: Record<string, SettingType>
  /** Keys whose value must be one of a list. */
  enums?: Record<string, readonly unknown[]>
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** The keys allowed at `rel`: those with a default, and the optional ones. */
function knownKeys(base: Record<string, unknown>, rel: string, schema: SettingsSchema): string[] {
  const optional = Object.keys({ ...schema.optional, ...schema.enums })
    .filter((o) => o.slice(0, o.lastIndexOf('.') + 1) === (rel ? `${rel}.` : ''))
    .map((o) => o.slice(o.lastIndexOf('.') + 1))
  return [...new Set([...Object.keys(base), ...optional])]
}

/**
 * Check `patch` against `defaults` (nested objects are checked key by key) and return it typed.
 * `field` is the patch's place in the config (`ppo`), `file` the config file, both for the error.
 * Keys of `schema` are dotted paths below `field` (`kl.adaptive`).
 */
export function checkSettings<T extends object>(defaults: T, patch: unknown, field: string, file?: string, schema: SettingsSchema = {}): Partial<T> {
  const fail = (message: string, at: string): never => {
    throw new Instruct3Error(message, { code: 'ECONFIG', details: { ...(file ? { file } : {}), field: at } })
  }
  const walk = (base: Record<string, unknown>, p: unknown, path: string, rel: string): void => {
    if (!isObject(p)) fail(`expected an object, got ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p}`, path)
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      const at = `${path}.${k}`
      const relK = rel ? `${rel}.${k}` : k
      const allowed = schema.enums?.[relK]
      if (allowed) {
        if (!allowed.includes(v)) fail(`must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, at)
        continue
      }
      const opt = schema.optional?.[relK]
      if (!(k in base) && !opt) fail(`unknown key (known: ${knownKeys(base, rel, schema).join(', ')})`, at)
      const want = opt ?? (isObject(base[k]) ? 'object' : typeof base[k])
      if (v === undefined) continue
      if (want === 'object') {
        if (isObject(base[k])) walk(base[k] as Record<string, unknown>, v, at, relK)
        else if (!isObject(v)) fail(`expected an object, got ${typeof v}`, at)
        continue
      }
      if (typeof v !== want) fail(`expected ${want}, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`, at)
      if (want === 'number' && !Number.isFinite(v)) fail('expected a finite number', at)
    }
  }
  walk(defaults as Record<string, unknown>, patch, field, '')
  return patch as Partial<T>
}
