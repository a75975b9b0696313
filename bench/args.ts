/** The storage backends the suite measures. */
export type BackendName = 'btrfs' | 'dir';

/** What `tsx bench/run.ts` was asked to do. */
export interface BenchArgs {
  /** Smaller sizes and fewer repetitions: the whole run within 2 minutes on a 2-core machine. */
  quick: boolean;
  backends: BackendName[];
  /** Where results.json goes; the markdown summary and the chart go next to it. */
  out: string;
  /** Instead of measuring, derive the metrics again from this results file and rewrite it, its summary and chart. */
  render?: string;
  help: boolean;
}

export const USAGE = `Usage: npm run bench -- [--quick] [--backend btrfs|dir|both] [--out bench/results.json]

  --quick            small sizes (4 MiB, 64 MiB) and fewer repetitions; finishes within 2 minutes
  --backend NAME     btrfs, dir or both (default both; btrfs needs root and kernel btrfs support)
  --out FILE         results file (default bench/results.json); results.md and results.svg go next to
                     it, and after a full run also full-run.md and full-run.svg (shown in the README)
  --render FILE      measure nothing: derive the metrics again from the raw measurements in FILE and
                     rewrite FILE, its summary and chart (after a change to how results are reported)`;

/**
 * Reads the command line of `bench/run.ts`.
 * @throws Error naming the argument that is not understood
 */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const args: BenchArgs = { quick: false, backends: ['btrfs', 'dir'], out: 'bench/results.json', help: false };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      if (inline !== undefined) return inline;
      const next = argv[++index];
      if (next === undefined || next.startsWith('--')) throw new Error(`${flag} needs a value\n\n${USAGE}`);
      return next;
    };
    switch (flag) {
      case '--quick':
        args.quick = true;
        break;
      case '--backend': {
        const backend = value();
        if (backend !== 'btrfs' && backend !== 'dir' && backend !== 'both')
          throw new Error(`--backend must be btrfs, dir or both, not ${JSON.stringify(backend)}\n\n${USAGE}`);
        args.backends = backend === 'both' ? ['btrfs', 'dir'] : [backend];
        break;
      }
      case '--out':
        args.out = value();
        break;
      case '--render':
        args.render = value();
        break;
      case '--help':
      case '-h':
        args.help = true;
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`);
    }
  }
  return args;
}
