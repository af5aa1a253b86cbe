/**
 * docker's flags, per command, as docker 28.2's `--help` lists them: what den knows docker has.
 * A flag den does not have that is in this list is told apart from a flag docker lacks too, so
 * `den run --restart` says that den does not support it yet instead of calling it unknown.
 *
 * Each list: flag names without dashes, a shorthand before its long name with a `|` (`p|publish`).
 * Keyed by den's command path; the management-command forms (`container ls`) are aliases of these.
 */
const DOCKER_FLAGS: Record<string, string> = {
  run: 'add-host annotation a|attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime c|cpu-shares cpus cpuset-cpus cpuset-mems d|detach detach-keys device device-cgroup-rule device-read-bps device-read-iops device-write-bps device-write-iops disable-content-trust dns dns-option dns-search domainname entrypoint e|env env-file expose gpus group-add health-cmd health-interval health-retries health-start-interval health-start-period health-timeout h|hostname init i|interactive io-maxbandwidth io-maxiops ip ip6 ipc isolation kernel-memory l|label label-file link link-local-ip log-driver log-opt mac-address m|memory memory-reservation memory-swap memory-swappiness mount name network network-alias no-healthcheck oom-kill-disable oom-score-adj pid pids-limit platform privileged p|publish P|publish-all pull q|quiet read-only restart rm runtime security-opt shm-size sig-proxy stop-signal stop-timeout storage-opt sysctl tmpfs t|tty ulimit use-api-socket u|user userns uts v|volume volume-driver volumes-from w|workdir',
  create:
    'add-host annotation a|attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime c|cpu-shares cpus cpuset-cpus cpuset-mems device device-cgroup-rule device-read-bps device-read-iops device-write-bps device-write-iops disable-content-trust dns dns-option dns-search domainname entrypoint e|env env-file expose gpus group-add health-cmd health-interval health-retries health-start-interval health-start-period health-timeout h|hostname init i|interactive io-maxbandwidth io-maxiops ip ip6 ipc isolation kernel-memory l|label label-file link link-local-ip log-driver log-opt mac-address m|memory memory-reservation memory-swap memory-swappiness mount name network network-alias no-healthcheck oom-kill-disable oom-score-adj pid pids-limit platform privileged p|publish P|publish-all pull q|quiet read-only restart rm runtime security-opt shm-size stop-signal stop-timeout storage-opt sysctl tmpfs t|tty ulimit use-api-socket u|user userns uts v|volume volume-driver volumes-from w|workdir',
  start: 'a|attach checkpoint checkpoint-dir detach-keys i|interactive',
  stop: 's|signal t|timeout',
  restart: 's|signal t|timeout',
  kill: 's|signal',
  wait: '',
  logs: 'details f|follow since n|tail t|timestamps until',
  exec: 'd|detach detach-keys e|env env-file i|interactive privileged t|tty u|user w|workdir',
  attach: 'detach-keys no-stdin sig-proxy',
  top: '',
  ps: 'a|all f|filter format n|last l|latest no-trunc q|quiet s|size',
  events: 'f|filter format since until',
  rename: '',
  port: '',
  pause: '',
  unpause: '',
  stats: 'a|all format no-stream no-trunc',
  'container prune': 'filter f|force',
  rm: 'f|force l|link v|volumes',
  rmi: 'f|force no-prune platform',
  images: 'a|all digests f|filter format no-trunc q|quiet tree',
  inspect: 'f|format s|size type',
  import: 'c|change m|message platform',
  load: 'i|input platform q|quiet',
  save: 'o|output platform',
  tag: '',
  history: 'format H|human no-trunc platform q|quiet',
  pull: 'a|all-tags disable-content-trust platform q|quiet',
  push: 'a|all-tags disable-content-trust platform q|quiet',
  login: 'p|password password-stdin u|username',
  logout: '',
  export: 'o|output',
  cp: 'a|archive L|follow-link q|quiet',
  diff: '',
  commit: 'a|author c|change m|message p|pause',
  version: 'f|format',
  info: 'f|format',
  'system df': 'format v|verbose',
  'image prune': 'a|all filter f|force',
};

export interface DockerFlag {
  long: string;
  short?: string;
}

/** docker's flag of that long name (`restart`) or shorthand (`p`) for a den command, if docker has one. */
export function dockerFlag(path: string, name: { long: string } | { short: string }): DockerFlag | undefined {
  for (const word of (DOCKER_FLAGS[path] ?? '').split(' ')) {
    if (!word) continue;
    const [short, long] = word.includes('|') ? (word.split('|') as [string, string]) : [undefined, word];
    if ('long' in name ? long === name.long : short === name.short) return short ? { long, short } : { long };
  }
  return undefined;
}
