import { KiB } from './units';

/** Small files, at most this many: enough for per-file costs to show without making `du` walks dominate. */
export const MAX_SMALL_FILES = 20_000;
/** One small file per this many bytes of dataset, until {@link MAX_SMALL_FILES}. */
export const BYTES_PER_SMALL_FILE = 16 * KiB;
export const SMALL_FILES_PER_DIRECTORY = 100;
/** Medium files, each {@link MEDIUM_FILE_SHARE} of the dataset: rewriting two of them changes 1%. */
export const MEDIUM_FILES = 25;
export const MEDIUM_FILE_SHARE = 0.005;
export const LARGE_FILES = 4;
const PAGE_BYTES = 4096;

/** One regular file of a dataset. */
export interface PlannedFile {
  /** Relative to the dataset root, `/`-separated. */
  path: string;
  bytes: number;
  tier: 'small' | 'medium' | 'large';
}

/** What a dataset of a given size holds. */
export interface DatasetLayout {
  sizeBytes: number;
  files: PlannedFile[];
  /** A hard link (path → the file it links to) and a symbolic link (path → target), for a realistic tree. */
  hardLink: { path: string; target: string };
  symlink: { path: string; target: string };
}

/**
 * The files of a dataset of exactly `sizeBytes` bytes of file data: many small files (1–8 KiB, in
 * directories of 100), 25 medium files of 0.5% each and 4 large files sharing the rest, like a
 * database directory. Sizes come from a seeded generator, so a size always gives the same layout.
 *
 * @throws Error when the size is too small to hold the tiers (below 1 MiB)
 */
export function planDataset(sizeBytes: number, seed = 6): DatasetLayout {
  const random = mulberry32(seed);
  const smallCount = Math.min(MAX_SMALL_FILES, Math.floor(sizeBytes / BYTES_PER_SMALL_FILE));
  const files: PlannedFile[] = [];
  for (let index = 0; index < smallCount; index++) {
    const directory = `small/d-${String(Math.floor(index / SMALL_FILES_PER_DIRECTORY)).padStart(3, '0')}`;
    const bytes = KiB + Math.floor(random() * 7 * KiB);
    files.push({ path: `${directory}/f-${String(index).padStart(5, '0')}.dat`, bytes, tier: 'small' });
  }
  const mediumBytes = Math.floor(sizeBytes * MEDIUM_FILE_SHARE);
  for (let index = 0; index < MEDIUM_FILES; index++)
    files.push({ path: `medium/m-${String(index).padStart(2, '0')}.bin`, bytes: mediumBytes, tier: 'medium' });
  const rest = sizeBytes - files.reduce((total, file) => total + file.bytes, 0);
  const largeBytes = Math.floor(rest / LARGE_FILES);
  if (largeBytes <= 0 || smallCount === 0) throw new Error(`a dataset of ${sizeBytes} bytes is too small to plan`);
  for (let index = 0; index < LARGE_FILES; index++) {
    const bytes = index === LARGE_FILES - 1 ? rest - largeBytes * (LARGE_FILES - 1) : largeBytes;
    files.push({ path: `large/l-${index}.bin`, bytes, tier: 'large' });
  }
  return {
    sizeBytes,
    files,
    hardLink: { path: 'small/hard-link.dat', target: (files[0] as PlannedFile).path },
    symlink: { path: 'latest', target: `large/l-${LARGE_FILES - 1}.bin` },
  };
}

/** A byte range of a file to overwrite. */
export interface PlannedWrite {
  path: string;
  offset: number;
  bytes: number;
}

/**
 * Where to overwrite `fraction` of the dataset's bytes in place: spread over the large files, in 8
 * regions each, as a database updates pages of its data files. File sizes stay the same.
 */
export function planInPlaceChange(layout: DatasetLayout, fraction: number, regionsPerFile = 8): PlannedWrite[] {
  const large = layout.files.filter((file) => file.tier === 'large');
  const perRegion = Math.floor((layout.sizeBytes * fraction) / large.length / regionsPerFile);
  return large.flatMap((file) =>
    Array.from({ length: regionsPerFile }, (_, region) => {
      const stride = Math.floor(file.bytes / regionsPerFile);
      // Page-aligned, as a database writes.
      const offset = Math.floor((region * stride + stride / 3) / PAGE_BYTES) * PAGE_BYTES;
      return { path: file.path, offset, bytes: Math.min(perRegion, file.bytes - offset) };
    }),
  );
}

/** The medium files that, rewritten whole, change `fraction` of the dataset's bytes (two for 1%). */
export function planWholeFileChange(layout: DatasetLayout, fraction: number): PlannedFile[] {
  const medium = layout.files.filter((file) => file.tier === 'medium');
  const count = Math.max(1, Math.round(fraction / MEDIUM_FILE_SHARE));
  // The last ones: the first small file carries the hard link, and no medium file does.
  return medium.slice(-count);
}

/** A small deterministic generator (mulberry32). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
