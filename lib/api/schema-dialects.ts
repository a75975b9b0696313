/**
 * The request schemas are JSON Schema draft-07 with the Delphix plugin keywords (`prettyName`,
 * `nameField`, `identityFields`) and Snapflow's `unixpath` format, which ajv knows. Other readers
 * know less, so each gets a copy without what it would reject or misread.
 */

/** Keywords only Delphix tooling reads. */
const PLUGIN_KEYWORDS = ['prettyName', 'nameField', 'identityFields'];

/** For an OpenAPI 3.0 document: without the plugin keywords (`format` is free-form there). */
export function toOpenApiSchema(schema: object): object {
  return without(schema, PLUGIN_KEYWORDS);
}

/**
 * For an API Gateway model, which is JSON Schema draft-4: without the plugin keywords and without
 * `format`, which API Gateway would check against its own list; the handler checks it behind.
 */
export function toApiGatewaySchema(schema: object): object {
  return { $schema: 'http://json-schema.org/draft-04/schema#', ...without(schema, [...PLUGIN_KEYWORDS, 'format']) };
}

/** A deep copy of `schema` without `keywords`; property names under `properties` are kept whatever they are. */
function without(schema: object, keywords: readonly string[]): object {
  return Object.fromEntries(
    Object.entries(schema)
      .filter(([key]) => !keywords.includes(key))
      .map(([key, value]) => [key, key === 'properties' ? eachProperty(value, keywords) : nested(value, keywords)]),
  );
}

function eachProperty(properties: Record<string, object>, keywords: readonly string[]): object {
  return Object.fromEntries(Object.entries(properties).map(([name, value]) => [name, without(value, keywords)]));
}

function nested(value: unknown, keywords: readonly string[]): unknown {
  if (Array.isArray(value)) return value.map((item) => nested(item, keywords));
  if (value !== null && typeof value === 'object') return without(value, keywords);
  return value;
}
