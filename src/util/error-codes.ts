/**
 * Every code an `Instruct3Error` can carry, in one registry: a code a caller tests for (`e.code ===
 * 'ENOTFOUND'`) is checked by the compiler, and a new code is added here, under its area, before use.
 * Codes are short and stable; the message and `details` (file, line, field) say what went wrong.
 */
export type ErrorCode =
  // any area: files, configs, formats
  | 'EINSTRUCT3' // the default, when no more specific code applies
  | 'ECONFIG' // a config file or option is wrong (details.field names it)
  | 'EUSAGE'
  | 'ENOENT'
  | 'ENOTDIR'
  | 'ENOTFILE'
  | 'EFILETYPE'
  | 'EJSONL'
  | 'EFORMAT'
  | 'EDATA'
  | 'EEMPTY'
  | 'ETOOLARGE'
  | 'EUNSUPPORTED'
  | 'EUNSAFE'
  | 'EINTERNAL'
  | 'ETIMEOUT'
  | 'EABORT'
  | 'ENOTFOUND'
  // data
  | 'ECORPUS'
  | 'EMARKDOWN'
  | 'ERPC'
  | 'ESNAPSHOT'
  // tokenizer and model
  | 'ETOKENIZER'
  | 'ETOKENIZER_FILE'
  | 'ETOKENIZER_MISMATCH'
  | 'ESAFETENSORS'
  | 'EGENERATE'
  | 'ERM' // not a reward/value model (no scalar head)
  // train
  | 'ECONTEXT'
  // pipeline
  | 'ESTAGE'
  | 'EJOB'
  | 'EMANIFEST'
  | 'EVERIFY'
  | 'ENORESULT'
  // store
  | 'ESTORE'
  | 'EKUBO'
  | 'ECID'
  | 'ECODEC'
  | 'EDAGJSON'
  | 'EUNIXFS'
  | 'ECAR'
  | 'ECARBLOCK'
  | 'ECARINCOMPLETE'
  | 'ECARTRUNCATED'
  | 'EHASH'
  | 'EHASHMISMATCH'
  | 'EUNRESOLVED'
  | 'ENOTPINNED'
  | 'EGC'
  | 'EUPLOAD'
  | 'EDIAL'
  | 'ECLOSED'
  // jobs
  | 'EJOBSPEC'
  | 'EJOBFAILED'
  | 'EBACALHAU'
  | 'EUNREACHABLE'
  // labeling (its HTTP API errors without a code of their own are E<status>, e.g. E404)
  | 'EALREADY'
  | 'EBADCAMPAIGN'
  | 'EBADJSON'
  | 'EBADREQUEST'
  | 'EBADSIG'
  | 'EDUPLICATE'
  | 'EFORBIDDEN'
  | 'EIDEMPOTENCY'
  | 'EINVALIDLABEL'
  | 'ELEASEEXPIRED'
  | 'EMIGRATE'
  | 'ENOCAMPAIGN'
  | 'ENOLABEL'
  | 'ENONCE'
  | 'ENONCEEXPIRED'
  | 'ENONCEREPLAY'
  | 'ENOTASSIGNED'
  | 'ERATELIMIT'
  | 'ESAMPLER'
  | 'ESESSIONEXPIRED'
  | 'ESIWE'
  | 'ESIWEDOMAIN'
  | 'ESIWEEXPIRED'
  | 'EUNAUTHORIZED'
  | `E${number}`
  // chain
  | 'ECHAIN'
  | 'EREVERT'
  | 'EAMOUNT'
  | 'EANVIL'
  | 'ENOANVIL'
  | 'EBATCH'
  | 'EDEPLOY'
  | 'ENODEPLOY'
  | 'EKEY'
  | 'ENOACCOUNT'
  | 'ENOTJOINED'
  | 'EARG' // settlement options (trust-chain)
  // labeling, issue 13 (trust-label)
  | 'ESIWECHAIN'
  | 'ESIWESTALE'
  | 'EBADPROMPTS'
  | 'EBADGOLD'
  // store and files, issue 13
  | 'ECARBOMB'
  | 'EEXIST'
  // feedback loop: a label batch failed verification (signature, root, campaign, settlement); a round cannot go on
  | 'ELABELBATCH'
  | 'ELOOP'
