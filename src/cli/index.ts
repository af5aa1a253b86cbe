import type { CommandModule } from './run-command.js';
import { DEN_VERSION } from './version.js';

/**
 * Commands load on demand, so `den ps` does not pay for parsing the code of `den import`, and
 * `den --version` loads none of them (nor the engine: this file imports nothing else at its top).
 * Docker's management-command forms (`den container ls`) are aliases of the short ones.
 */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  run: () => import('./commands/run.js'),
  create: () => import('./commands/create.js'),
  start: () => import('./commands/start.js'),
  stop: () => import('./commands/stop.js'),
  restart: () => import('./commands/restart.js'),
  kill: () => import('./commands/kill.js'),
  wait: () => import('./commands/wait.js'),
  logs: () => import('./commands/logs.js'),
  exec: () => import('./commands/exec.js'),
  attach: () => import('./commands/attach.js'),
  top: () => import('./commands/top.js'),
  ps: () => import('./commands/ps.js'),
  events: () => import('./commands/events.js'),
  rename: () => import('./commands/rename.js'),
  port: () => import('./commands/port.js'),
  pause: () => import('./commands/pause.js'),
  unpause: () => import('./commands/unpause.js'),
  stats: () => import('./commands/stats.js'),
  'container prune': () => import('./commands/container-prune.js'),
  rm: () => import('./commands/rm.js'),
  inspect: () => import('./commands/inspect.js'),
  images: () => import('./commands/images.js'),
  rmi: () => import('./commands/rmi.js'),
  import: () => import('./commands/import.js'),
  load: () => import('./commands/load.js'),
  save: () => import('./commands/save.js'),
  tag: () => import('./commands/tag.js'),
  history: () => import('./commands/history.js'),
  pull: () => import('./commands/pull.js'),
  export: () => import('./commands/export.js'),
  cp: () => import('./commands/cp.js'),
  diff: () => import('./commands/diff.js'),
  commit: () => import('./commands/commit.js'),
  push: () => import('./commands/push.js'),
  login: () => import('./commands/login.js'),
  logout: () => import('./commands/logout.js'),
  'system check': () => import('./commands/system-check.js'),
  'system df': () => import('./commands/system-df.js'),
  'system boot': () => import('./commands/system-boot.js'),
  'system service': () => import('./commands/system-service.js'),
  'image prune': () => import('./commands/image-prune.js'),
  'volume create': () => import('./commands/volume-create.js'),
  'volume ls': () => import('./commands/volume-ls.js'),
  'volume inspect': () => import('./commands/volume-inspect.js'),
  'volume rm': () => import('./commands/volume-rm.js'),
  'volume prune': () => import('./commands/volume-prune.js'),
  'volume reclaim': () => import('./commands/volume-reclaim.js'),
  'network create': () => import('./commands/network-create.js'),
  'network ls': () => import('./commands/network-ls.js'),
  'network inspect': () => import('./commands/network-inspect.js'),
  'network rm': () => import('./commands/network-rm.js'),
  'network prune': () => import('./commands/network-prune.js'),
  'network connect': () => import('./commands/network-connect.js'),
  'network disconnect': () => import('./commands/network-disconnect.js'),
  'toolbox create': () => import('./commands/toolbox-create.js'),
  'toolbox enter': () => import('./commands/toolbox-enter.js'),
  'toolbox run': () => import('./commands/toolbox-run.js'),
  'toolbox ls': () => import('./commands/toolbox-ls.js'),
  'toolbox rm': () => import('./commands/toolbox-rm.js'),
  'healthcheck run': () => import('./commands/healthcheck-run.js'),
  unshare: () => import('./commands/unshare.js'),
  version: () => import('./commands/version.js'),
  info: () => import('./commands/info.js'),
};

const ALIASES: Record<string, string> = {
  'container run': 'run',
  'container create': 'create',
  'container start': 'start',
  'container stop': 'stop',
  'container restart': 'restart',
  'container kill': 'kill',
  'container wait': 'wait',
  'container logs': 'logs',
  'container exec': 'exec',
  'container attach': 'attach',
  'container top': 'top',
  'container ls': 'ps',
  'container list': 'ps',
  'container ps': 'ps',
  'container rm': 'rm',
  'container inspect': 'inspect',
  'container export': 'export',
  'container cp': 'cp',
  'container diff': 'diff',
  'container commit': 'commit',
  'image ls': 'images',
  'image list': 'images',
  'image rm': 'rmi',
  'image import': 'import',
  'image pull': 'pull',
  'image push': 'push',
  'image inspect': 'inspect',
  'image load': 'load',
  'image save': 'save',
  'image tag': 'tag',
  'image history': 'history',
  'system info': 'info',
  'system events': 'events',
  'container rename': 'rename',
  'container port': 'port',
  'container pause': 'pause',
  'container unpause': 'unpause',
  'container stats': 'stats',
  'network list': 'network ls',
  'volume list': 'volume ls',
  'volume remove': 'volume rm',
  'network remove': 'network rm',
  'toolbox list': 'toolbox ls',
};

const SUMMARIES: [string, string][] = [
  ['run', 'Create and run a new container from an image'],
  ['create', 'Create a new container'],
  ['start', 'Start one or more stopped containers'],
  ['stop', 'Stop one or more running containers'],
  ['restart', 'Restart one or more containers'],
  ['kill', 'Kill one or more running containers'],
  ['wait', 'Block until one or more containers stop, then print their exit codes'],
  ['logs', 'Fetch the logs of a container'],
  ['exec', 'Execute a command in a running container'],
  ['attach', 'Attach local standard input, output, and error streams to a running container'],
  ['top', 'Display the running processes of a container'],
  ['ps', 'List containers'],
  ['events', 'Get real time events from the server'],
  ['rename', 'Rename a container'],
  ['port', 'List port mappings or a specific mapping for the container'],
  ['pause', 'Pause all processes within one or more containers'],
  ['unpause', 'Unpause all processes within one or more containers'],
  ['stats', 'Display a live stream of container(s) resource usage statistics'],
  ['container prune', 'Remove all stopped containers'],
  ['rm', 'Remove one or more containers'],
  ['inspect', 'Return low-level information on containers and images'],
  ['images', 'List images'],
  ['rmi', 'Remove one or more images'],
  ['import', 'Import the contents from a tarball to create a filesystem image'],
  ['load', 'Load an image from a tar archive or STDIN'],
  ['save', 'Save one or more images to a tar archive (streamed to STDOUT by default)'],
  ['tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'],
  ['history', 'Show the history of an image'],
  ['pull', 'Download an image from a registry'],
  ['export', "Export a container's filesystem as a tar archive"],
  ['cp', 'Copy files/folders between a container and the local filesystem'],
  ['diff', "Inspect changes to files or directories on a container's filesystem"],
  ['commit', "Create a new image from a container's changes"],
  ['push', 'Upload an image to a registry'],
  ['login', 'Log in to a registry'],
  ['logout', 'Log out from a registry'],
  ['system check', 'Tell what this host supports and how to fix what is missing (--store: the store)'],
  ['system df', "Show den's disk usage"],
  ['system boot', 'Start the containers whose restart policy says so; run once at boot'],
  ['system service', 'Serve the Docker Engine API on a unix socket (DOCKER_HOST) until idle'],
  ['image prune', 'Remove unused images, and blobs and layers nothing uses'],
  ['volume create', 'Create a volume'],
  ['volume ls', 'List volumes'],
  ['volume inspect', 'Display detailed information on one or more volumes'],
  ['volume rm', 'Remove one or more volumes'],
  ['volume prune', 'Remove unused volumes (anonymous ones; -a: all)'],
  ['volume reclaim', "Give a volume's files back their canonical owners (rootless)"],
  ['network create', 'Create a network'],
  ['network ls', 'List networks'],
  ['network inspect', 'Display detailed information on one or more networks'],
  ['network rm', 'Remove one or more networks'],
  ['network prune', 'Remove all unused networks'],
  ['network connect', 'Connect a container to a network'],
  ['network disconnect', 'Disconnect a container from a network'],
  ['toolbox create', 'Create a toolbox: a container with your user, home, shell and network (docs/toolbox.md)'],
  ['toolbox enter', 'Your login shell in a toolbox'],
  ['toolbox run', 'Run a command in a toolbox as you'],
  ['toolbox ls', 'List your toolboxes'],
  ['toolbox rm', 'Remove toolboxes'],
  ['healthcheck run', "Run a container's health check now"],
  ['unshare', "Run a command in den's rootless session, as root there"],
  ['version', 'Show the den version information'],
  ['info', 'Display system-wide information'],
];

function topHelp(): string {
  const width = Math.max(...SUMMARIES.map(([n]) => n.length)) + 3;
  return [
    'Usage:  den [--version] COMMAND [OPTIONS]',
    '',
    'A daemonless container engine: every container in a user namespace of its own, no root needed.',
    '',
    'Commands:',
    ...SUMMARIES.map(([n, s]) => `  ${n.padEnd(width)}${s}`),
    '',
    "Run 'den COMMAND --help' for more information on a command.",
    '',
  ].join('\n');
}

/** Finds the command named by the first one or two words of argv. */
function lookup(argv: readonly string[]): { path: string; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const path = argv.slice(0, words).join(' ');
    const name = ALIASES[path] ?? path;
    if (COMMANDS[name]) return { path: name, rest: argv.slice(words) };
  }
  return undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(topHelp());
    return first === undefined ? 1 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`den version ${DEN_VERSION}\n`);
    return 0;
  }
  if (first === '__unpack') return (await import('./internal-unpack.js')).unpackMain(argv.slice(1));
  if (first === '__shift') return (await import('./internal-shift.js')).shiftMain(argv.slice(1));
  if (first === '__exited') return (await import('./internal-exited.js')).exitedMain(argv.slice(1));
  if (first === '__healthcheck') return (await import('./internal-healthcheck.js')).healthcheckMain(argv.slice(1));
  if (first === '__files') return (await import('./internal-files.js')).filesMain(argv.slice(1));
  const found = lookup(argv);
  if (!found) {
    const word = argv
      .slice(0, ['system', 'container', 'image', 'healthcheck', 'network'].includes(argv[0]!) ? 2 : 1)
      .join(' ');
    process.stderr.write(`den: '${word}' is not a den command.\nSee 'den --help'\n`);
    return 1;
  }
  return (await import('./run-command.js')).runCommand(COMMANDS[found.path]!, found.rest);
}
