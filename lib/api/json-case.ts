/** `sourceConfigId` → `source_config_id`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `source_config_id` → `sourceConfigId`. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

/** The object with its own keys (not those of nested objects) in camelCase. */
export function camelKeys(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [camelCase(key), field]));
}

/** The value with the keys of every object in it, however deep, in snake_case. */
export function snakeKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [snakeCase(key), snakeKeysDeep(field)]));
}

/** The value with the keys of every object in it, however deep, in camelCase. */
export function camelKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelKeysDeep);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, field]) => [camelCase(key), camelKeysDeep(field)]));
}
