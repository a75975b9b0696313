/** Bytes in a kibibyte, mebibyte and gibibyte. */
export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;

/** A dataset size as the suite names it: `4 MiB`, `400 MiB`, `4 GiB`, `1.5 GiB`. */
export function sizeLabel(bytes: number): string {
  const [unit, scale] =
    bytes >= GiB ? ['GiB', GiB] : bytes >= MiB ? ['MiB', MiB] : bytes >= KiB ? ['KiB', KiB] : ['B', 1];
  const value = bytes / (scale as number);
  return `${Number.isInteger(value) ? value : Number(value.toFixed(1))} ${unit}`;
}

/** Bytes for a table cell: `0 B`, `48.0 KiB`, `3.71 GiB`. */
export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) < KiB) return `${Math.round(bytes)} B`;
  const [unit, scale] = Math.abs(bytes) >= GiB ? ['GiB', GiB] : Math.abs(bytes) >= MiB ? ['MiB', MiB] : ['KiB', KiB];
  const value = bytes / (scale as number);
  return `${value.toFixed(Math.abs(value) < 10 ? 2 : 1)} ${unit}`;
}

/** Milliseconds for a table cell: `15 µs`, `0.42 ms`, `45 ms`, `1.23 s`, `61.0 s`. */
export function formatMs(ms: number): string {
  if (ms < 0.1) return `${Math.round(ms * 1000)} µs`;
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}
