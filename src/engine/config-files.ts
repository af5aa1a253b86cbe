import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DenError, invalidArgument } from '../common/errors.js';
import { parseNetwork, parseUserns } from './containers/create-spec.js';

/**
 * The configuration files the CLI reads besides its environment, for the settings den shares with
 * podman. Read at the edge with the environment (engineConfigFromEnv), never by the engine.
 *
 *   den.conf           $XDG_CONFIG_HOME/den/den.conf, else ~/.config/den/den.conf: `name = value`
 *                      lines, `#` comments; the one setting so far is `userns`
 *   containers.conf    podman's: $CONTAINERS_CONF alone when set, else
 *                      /usr/share/containers/containers.conf, /etc/containers/containers.conf and,
 *                      rootless, ~/.config/containers/containers.conf, a later file winning; den
 *                      reads `userns` of its [containers] table and nothing else
 *
 * The default --userns, strongest first: DEN_USERNS, den.conf, containers.conf, den's own choice.
 */
export interface Setting {
  value: string;
  /** Where it was read, for messages and `den system check`: `DEN_USERNS`, `FILE line N`. */
  from: string;
}

export function defaultUsernsSetting(
  env: Readonly<Record<string, string | undefined>>,
  rootless: boolean,
): Setting | undefined {
  const setting = env.DEN_USERNS
    ? { value: env.DEN_USERNS, from: 'DEN_USERNS' }
    : (denConfUserns(env) ?? containersConfUserns(env, rootless));
  if (setting) checkUserns(setting);
  return setting;
}

function configHome(env: Readonly<Record<string, string | undefined>>): string {
  return env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
}

/** den.conf's path for this environment (documented in the README). */
export function denConfPath(env: Readonly<Record<string, string | undefined>>): string {
  return join(configHome(env), 'den', 'den.conf');
}

const DEN_CONF_SETTINGS = ['userns', 'network'];

function denConfUserns(env: Readonly<Record<string, string | undefined>>): Setting | undefined {
  return denConfSetting(env, 'userns');
}

/** One setting of den.conf (every line is checked, whichever is asked for). */
function denConfSetting(env: Readonly<Record<string, string | undefined>>, wanted: string): Setting | undefined {
  const file = denConfPath(env);
  const text = readIfPresent(file);
  if (text === undefined) return undefined;
  let found: Setting | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      throw invalidArgument('DEN1302', `${file} line ${i + 1}: expected NAME = VALUE, found "${line}"`, {
        hint: 'write settings as `userns = auto`; lines starting with # are comments',
      });
    }
    const [, name, value] = m as unknown as [string, string, string];
    if (!DEN_CONF_SETTINGS.includes(name)) {
      throw invalidArgument('DEN1302', `${file} line ${i + 1}: unknown setting "${name}"`, {
        hint: `den.conf knows: ${DEN_CONF_SETTINGS.join(', ')}`,
      });
    }
    if (name === wanted) found = { value: unquote(value), from: `${file} line ${i + 1}` };
  });
  return found;
}

/**
 * The default network, strongest first: DEN_NETWORK, den.conf's `network`, containers.conf's
 * `default_rootless_network_cmd` of its [network] table (podman's choice between pasta and
 * slirp4netns, rootless). Undefined: den chooses (pasta, else slirp4netns).
 */
export function defaultNetworkSetting(
  env: Readonly<Record<string, string | undefined>>,
  rootless: boolean,
): Setting | undefined {
  const setting = env.DEN_NETWORK
    ? { value: env.DEN_NETWORK, from: 'DEN_NETWORK' }
    : (denConfSetting(env, 'network') ??
      (rootless ? containersConfString(env, rootless, 'network', 'default_rootless_network_cmd') : undefined));
  if (!setting) return undefined;
  let mode;
  try {
    mode = parseNetwork(setting.value);
  } catch (e) {
    throw invalidArgument('DEN1218', `${setting.from}: ${(e as Error).message}`, {
      hint: 'name pasta, slirp4netns, host, none or a network (den network ls)',
    });
  }
  if (mode.kind === 'default' || mode.kind === 'container') {
    throw invalidArgument('DEN1218', `${setting.from}: "${setting.value}" cannot be the default network`, {
      hint: 'name pasta, slirp4netns, host, none or a network (den network ls)',
    });
  }
  return setting;
}

function containersConfUserns(
  env: Readonly<Record<string, string | undefined>>,
  rootless: boolean,
): Setting | undefined {
  return containersConfString(env, rootless, 'containers', 'userns');
}

function containersConfString(
  env: Readonly<Record<string, string | undefined>>,
  rootless: boolean,
  table: string,
  key: string,
): Setting | undefined {
  const files = env.CONTAINERS_CONF
    ? [env.CONTAINERS_CONF]
    : [
        '/usr/share/containers/containers.conf',
        '/etc/containers/containers.conf',
        ...(rootless ? [join(configHome(env), 'containers', 'containers.conf')] : []),
      ];
  let found: Setting | undefined;
  for (const file of files) {
    const text = readIfPresent(file);
    if (text !== undefined) found = tomlTableString(text, table, key, file) ?? found;
  }
  return found;
}

/**
 * One string key of one table of a TOML file. Only what den needs: table headers and `key = "value"`
 * lines; everything else (other tables, arrays over several lines, inline tables) is passed over,
 * since podman's file holds many settings den has no use for.
 */
export function tomlTableString(text: string, table: string, key: string, file: string): Setting | undefined {
  let current = '';
  let found: Setting | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').trim();
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]\s*(#.*)?$/.exec(line);
    if (header) {
      current = header[1]!;
      return;
    }
    if (current !== table) return;
    const m = new RegExp(`^${key}\\s*=\\s*(.*)$`).exec(line);
    if (m) found = { value: unquote(m[1]!.replace(/\s+#.*$/, '')), from: `${file} line ${i + 1}` };
  });
  return found;
}

function unquote(value: string): string {
  const v = value.trim();
  const q = /^"(.*)"$/.exec(v) ?? /^'(.*)'$/.exec(v);
  return q ? q[1]! : v;
}

function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw invalidArgument('DEN1302', `${file}: cannot read: ${(e as Error).message}`, {
      hint: 'make it readable or remove it',
    });
  }
}

/** The value must be one --userns takes (an explicit map has no place in a default). */
function checkUserns(setting: Setting): void {
  try {
    parseUserns(setting.value, [], []);
  } catch (e) {
    if (!(e instanceof DenError)) throw e;
    throw invalidArgument('DEN1301', `${setting.from}: userns "${setting.value}" is not a --userns value`, {
      hint: 'use auto[:size=N], host or keep-id[:uid=U,gid=G]',
      cause: e,
    });
  }
}
