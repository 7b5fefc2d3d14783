/**
 * TEST CODE ONLY. A small checker of JSON values against Swagger 2.0 definitions (the subset Bacalhau's
 * pkg/swagger/swagger.json uses: $ref, allOf, object properties, additionalProperties, array items, scalar types,
 * enums). `strict` also reports properties the definition does not declare, so neither our requests nor the
 * stand-in's answers can carry fields the real API does not have.
 *
 * Where Bacalhau's Go marshalling differs from what swaggo generated, `WIRE_OVERRIDES` says what goes on the
 * wire, each with the v1.9.3 source that decides it.
 */
export type SwaggerSchema = {
  $ref?: string
  allOf?: SwaggerSchema[]
  type?: string
  properties?: Record<string, SwaggerSchema>
  additionalProperties?: boolean | SwaggerSchema
  items?: SwaggerSchema
  enum?: unknown[]
}
export type SwaggerDoc = { paths: Record<string, Record<string, { parameters?: { name: string; in: string; schema?: SwaggerSchema }[]; responses: Record<string, { schema?: SwaggerSchema }> }>>; definitions: Record<string, SwaggerSchema> }

export const WIRE_OVERRIDES: Record<string, SwaggerSchema> = {
  // pkg/models/job.go: JobStateType.MarshalText writes the name ("Completed"), swagger says integer
  'models.JobStateType': { type: 'string', enum: ['Undefined', 'Pending', 'Queued', 'Running', 'Completed', 'Failed', 'Stopped'] },
  // pkg/models/node_info.go: NodeType.MarshalText ("Requester" | "Compute")
  'models.NodeType': { type: 'string', enum: ['Requester', 'Compute'] },
  // pkg/models/node_approval.go: NodeMembershipState.MarshalJSON writes "PENDING" | "APPROVED" | "REJECTED"
  'models.NodeMembershipState': { type: 'string', enum: ['UNKNOWN', 'PENDING', 'APPROVED', 'REJECTED'] },
  // pkg/models/node_connection.go: NodeConnectionState.MarshalJSON writes "CONNECTED" | "DISCONNECTED"
  'models.NodeConnectionState': { type: 'string', enum: ['CONNECTED', 'DISCONNECTED'] },
  // pkg/models/execution_log.go: ExecutionLog has no json tags, so Go writes "Type" and "Line" (swagger: type, line)
  'models.ExecutionLog': { type: 'object', properties: { Type: { $ref: '#/definitions/models.ExecutionLogType' }, Line: { type: 'string' } } },
}

export function checkValue(doc: SwaggerDoc, schema: SwaggerSchema, value: unknown, at: string, strict: boolean, errors: string[] = []): string[] {
  if (schema.$ref) {
    const name = schema.$ref.replace('#/definitions/', '')
    const def = WIRE_OVERRIDES[name] ?? doc.definitions[name]
    if (!def) errors.push(`${at}: unknown definition ${name}`)
    else checkValue(doc, def, value, at, strict, errors)
    return errors
  }
  if (schema.allOf) {
    for (const s of schema.allOf) checkValue(doc, s, value, at, strict, errors)
    return errors
  }
  if (value === null || value === undefined) return errors // Go writes null for nil pointers, maps and slices
  if (schema.enum && !schema.enum.includes(value)) errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`)
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return [...errors, `${at}: expected an object, got ${JSON.stringify(value)}`]
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const prop = schema.properties?.[k]
        if (prop) checkValue(doc, prop, v, `${at}.${k}`, strict, errors)
        else if (typeof schema.additionalProperties === 'object') checkValue(doc, schema.additionalProperties, v, `${at}.${k}`, strict, errors)
        else if (schema.additionalProperties !== true && strict) errors.push(`${at}.${k}: not a property of the definition`)
      }
      return errors
    }
    case 'array':
      if (!Array.isArray(value)) return [...errors, `${at}: expected an array`]
      value.forEach((v, i) => schema.items && checkValue(doc, schema.items, v, `${at}[${i}]`, strict, errors))
      return errors
    case 'string':
      if (typeof value !== 'string') errors.push(`${at}: expected a string, got ${JSON.stringify(value)}`)
      return errors
    case 'integer':
      if (!Number.isInteger(value)) errors.push(`${at}: expected an integer, got ${JSON.stringify(value)}`)
      return errors
    case 'number':
      if (typeof value !== 'number') errors.push(`${at}: expected a number, got ${JSON.stringify(value)}`)
      return errors
    case 'boolean':
      if (typeof value !== 'boolean') errors.push(`${at}: expected a boolean`)
      return errors
    default:
      return errors
  }
}

/** The swagger path template a concrete path matches ("/api/v1/orchestrator/jobs/j-1" -> ".../jobs/{id}"). */
export function matchPath(doc: SwaggerDoc, path: string): string | undefined {
  return Object.keys(doc.paths).find((tpl) => new RegExp(`^${tpl.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path))
}
