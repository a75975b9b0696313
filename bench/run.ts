import { setMaxListeners } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { type BackendName, parseBenchArgs, USAGE } from './args';
import { benchBackend } from './bench-backend';
import { svgChart, textChart, timeChartGroups } from './chart';
import { deriveMetrics } from './derive-metrics';
import { measureInterpreter } from './measure-interpreter';
import type { Metric } from './metrics';
import { benchPlan } from './plan';
import { prepareDatasets } from './prepare-datasets';
import type { BackendReport, BenchResults, MachineInfo } from './reports';
import { exec, mountPointsBelow } from './shell';
import { markdownTable, summarize, targetRows } from './summary';

/**
 * `npm run bench -- [--quick] [--backend btrfs|dir|both] [--out bench/results.json]`: measures
 * snapshot, provision, sync, storage and orchestration against full-copy baselines and writes
 * results.json, a markdown summary and an SVG chart. Everything it makes lives in one temporary
 * directory, removed at the end, also after a failure or Ctrl-C.
 */
async function main(argv: readonly string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.render !== undefined) {
    const file = resolve(args.render);
    const paths = await writeResults(rederive(JSON.parse(await readFile(file, 'utf8')) as BenchResults), file);
    process.stderr.write(`rewrote ${paths.join(', ')}\n`);
    return 0;
  }
  const started = Date.now();
  const log = (line: string) =>
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  const plan = benchPlan(args.quick);
  const work = await mkdtemp(join(tmpdir(), 'snapflow-bench-'));
  const interrupt = new AbortController();
  // Every workflow run listens to the signal; 20 run at once.
  setMaxListeners(100, interrupt.signal);
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) return log(`${signal}: still cleaning up ${work}`);
    log(`${signal}: stopping, then cleaning up ${work}`);
    interrupt.abort(new Error(`interrupted by ${signal}`));
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  try {
    const machine = await machineInfo(work);
    log(`work directory ${work} (${machine.workFilesystem}); ${args.quick ? 'quick' : 'full'} run`);
    const interpreter = await measureInterpreter();
    const metrics: Metric[] = [
      { name: 'interpreter-pass-transition', backend: 'any', value: interpreter.passMs, unit: 'ms' },
      { name: 'interpreter-task-transition', backend: 'any', value: interpreter.taskMs, unit: 'ms' },
    ];
    const datasets = await prepareDatasets(plan, join(work, 'datasets'), log, interrupt.signal);
    const backends: Partial<Record<BackendName, BackendReport>> = {};
    for (const [index, backend] of args.backends.entries()) {
      const result = await benchBackend({
        backend,
        plan,
        datasets,
        firstChange: 1 + 2 * index,
        work,
        interpreterTaskMs: interpreter.taskMs,
        workFilesystem: machine.workFilesystem,
        cpus: machine.cpus,
        log,
        signal: interrupt.signal,
      });
      backends[backend] = result.report;
      metrics.push(...result.metrics);
    }
    machine.loadAverage.push(loadavg()[0] ?? 0);
    const results: BenchResults = {
      generatedAt: new Date().toISOString(),
      machine,
      quick: plan.quick,
      wallMs: Date.now() - started,
      sizes: plan.sizes,
      backends,
      metrics,
    };
    const paths = await writeResults(results, resolve(args.out));
    const groups = timeChartGroups(metrics);
    process.stdout.write(
      `${markdownTable(['measurement', 'backend', 'target', 'measured', 'result'], targetRows(metrics))}\n\n${textChart(groups)}\n\n`,
    );
    log(`wrote ${paths.join(', ')}`);
    return 0;
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
    log('interrupted: nothing written');
    return 130;
  } finally {
    // The handlers stay until the clean-up is done: a second Ctrl-C (or npm's SIGTERM) must not cut it short.
    const left = await mountPointsBelow(work);
    if (left.length === 0) await rm(work, { recursive: true, force: true });
    else log(`left ${work} in place: still mounted below it: ${left.join(', ')}`);
    for (const signal of signals) process.removeListener(signal, onSignal);
  }
}

async function machineInfo(work: string): Promise<MachineInfo> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memory: totalmem(),
    kernel: release(),
    node: process.version,
    workFilesystem: (await exec('stat', ['-f', '-c', '%T', work])).trim(),
    loadAverage: [loadavg()[0] ?? 0],
  };
}

/** The results with their metrics derived again from the raw measurements of each backend. */
function rederive(results: BenchResults): BenchResults {
  const interpreter = results.metrics.filter((metric) => metric.backend === 'any');
  const interpreterTaskMs = interpreter.find((metric) => metric.name === 'interpreter-task-transition')?.value ?? 0;
  const metrics = [...interpreter];
  for (const [backend, report] of Object.entries(results.backends) as [BackendName, BackendReport][])
    metrics.push(
      ...deriveMetrics(report, {
        backend,
        interpreterTaskMs,
        workFilesystem: results.machine.workFilesystem,
        cpus: results.machine.cpus,
      }),
    );
  return { ...results, metrics };
}

/**
 * Writes results.json and, next to it, the markdown summary and the SVG chart (same base name). A
 * full run also writes them as full-run.md and full-run.svg, which the README shows and a quick run
 * leaves alone.
 */
async function writeResults(results: BenchResults, out: string): Promise<string[]> {
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  const bases = [join(dirname(out), basename(out, '.json'))];
  if (!results.quick) bases.push(join(dirname(out), 'full-run'));
  const written = [out];
  for (const base of bases) {
    await writeFile(
      `${base}.svg`,
      svgChart(timeChartGroups(results.metrics), 'Snapflow: time against a full copy (log scale)'),
    );
    await writeFile(`${base}.md`, summarize(results, basename(`${base}.svg`)));
    written.push(`${base}.md`, `${base}.svg`);
  }
  return written;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
