import { resolve } from 'node:path';
import { apiFilePath, defaultHome } from '../../local/api-file';
import { serveLocal } from '../../local/serve-local';
import { BACKEND_USAGE, backendFlag } from '../backend-flag';
import { CliError, optionalFlag, type SingleCommand } from '../cli-command';

/** `snapflow up`: local mode and its API, in the foreground. */
export const upCommand: SingleCommand = {
  noun: 'up',
  command: {
    summary:
      'Run local mode, its schedules and its REST API in the foreground until SIGINT or SIGTERM; --watch syncs a dSource when its source changes',
    usage: `[--home DIR] [--port N] ${BACKEND_USAGE} [--watch] [--copy-timeout SECONDS]`,
    flags: {
      home: { type: 'string' },
      port: { type: 'string' },
      backend: { type: 'string' },
      watch: { type: 'boolean' },
      'copy-timeout': { type: 'string' },
    },
    callsApi: false,
    async run({ io, values }) {
      const backend = backendFlag(optionalFlag(values, 'backend'));
      const port = Number(optionalFlag(values, 'port') ?? '0');
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be a port number, not ${JSON.stringify(values.port)}`);
      const home = resolve(optionalFlag(values, 'home') ?? defaultHome(io.env));
      const copyTimeout = optionalFlag(values, 'copy-timeout');
      // SSM's limit for one step: 48 hours.
      if ((copyTimeout !== undefined && !/^[1-9][0-9]{0,5}$/.test(copyTimeout)) || Number(copyTimeout) > 172_800)
        throw new CliError(`--copy-timeout must be whole seconds from 1 to 172800, not ${JSON.stringify(copyTimeout)}`);

      const watch = values.watch === true;
      const server = await serveLocal({
        home,
        backend,
        port,
        watch,
        ...(copyTimeout === undefined ? {} : { copyTimeoutSeconds: Number(copyTimeout) }),
        log: (line) => io.out(line),
      });
      io.out(`Engine: ${server.backend.kind} backend (${server.backend.reason})`);
      io.out(`This machine is environment ${server.environment.id} (host id ${server.environment.hostId}).`);
      if (watch) {
        const paths = server.triggers.watchedPaths();
        io.out(
          `Watching ${paths.length === 0 ? 'no source yet' : paths.join(', ')}; dSources linked from this machine later are watched too.`,
        );
      }
      io.out(`Snapflow API on ${server.url}; URL and token in ${apiFilePath(home)}.`);
      io.out('Press Ctrl-C to stop.');
      const signal = await io.stopRequested();
      io.out(`${signal}: stopping; jobs still running are aborted.`);
      await server.close();
      io.out(
        `Stopped. The engine's data stays in ${home} for the next \`snapflow up\`; VDB mounts stay as they are (unmount them with \`snapflow vdb stop\` before, or umount).`,
      );
      return 0;
    },
  },
};
