// The one way our install-time patches edit a dependency's file: exact text replacements, each with the
// number of times its target must occur, so a patch never half-applies to a version it was not written for.

/** Apply `edits` ([find, replace, expected count]) to one file's text; returns the new text or throws naming the missing target. */
export function applyEdits(edits, src, file) {
  let out = src
  for (const [find, replace, count] of edits) {
    const n = out.split(find).length - 1
    if (n !== count) throw new Error(`${file}: expected ${count} occurrence(s) of patch target, found ${n}: ${find.slice(0, 80)}`)
    out = out.split(find).join(replace)
  }
  return out
}
