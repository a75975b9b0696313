import { formatTable } from '../core/format-table';

/**
 * One record as a two-column table, a row per field; nested objects become dotted fields
 * (`virtual_source.mountLocation`), lists are joined with commas.
 */
export function recordTable(record: object): string {
  return formatTable(['field', 'value'], fieldRows(record, ''));
}

function fieldRows(value: object, prefix: string): string[][] {
  return Object.entries(value).flatMap(([key, field]) => {
    const name = `${prefix}${key}`;
    if (field !== null && typeof field === 'object' && !Array.isArray(field)) {
      const nested = fieldRows(field, `${name}.`);
      return nested.length === 0 ? [[name, '']] : nested;
    }
    return [[name, cell(field)]];
  });
}

/** A value as a table cell. */
export function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
