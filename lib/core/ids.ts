/** Id prefixes by record kind; with 16 hex digits they match ID_PATTERN. */
export const ID_PREFIXES = {
  environment: 'env',
  sourceConfig: 'sc',
  dsource: 'ds',
  timeflow: 'tf',
  snapshot: 'snap',
  vdb: 'vdb',
} as const;

/** 16 random hex digits (Web Crypto, which Node and the Lambda runtime both have). */
export function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** A new id for a record of `kind`, e.g. `vdb-0f3a9c2e71d4b856`. */
export function newId(kind: keyof typeof ID_PREFIXES): string {
  return `${ID_PREFIXES[kind]}-${randomHex()}`;
}
