/**
 * `den system check`'s probes for what the OCI runtime needs: crun (den's default) or runc, and the
 * default seccomp profile (the cgroup layout crun accepts is the cgroups module's probe).
 */
import { readFileSync } from 'node:fs';
import { errnoCode } from '../common/errors.js';
import { checkTool, fail, ok, warn, type Finding, type Host } from '../common/host-check.js';
import { DEFAULT_SECCOMP_PROFILE } from './seccomp.js';

/** crun, den's default runtime: without it no container runs. */
export function checkCrun(h: Host): Finding {
  return checkTool(h, 'crun', 'fail', 'apt-get install crun');
}

/** runc, which a container gets with --runtime runc (or DEN_RUNTIME=runc). */
export function checkRunc(h: Host): Finding {
  return checkTool(h, 'runc', 'warn', 'apt-get install runc');
}

/** The default seccomp profile: there, valid JSON, with a default action. */
export function checkSeccompProfile(): Finding {
  const file = DEFAULT_SECCOMP_PROFILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') {
      return warn(
        `${file} is missing: containers run without a seccomp filter`,
        'apt-get install golang-github-containers-common',
      );
    }
    return fail(`${file}: cannot read: ${(e as Error).message}`);
  }
  let profile: { defaultAction?: unknown; syscalls?: unknown };
  try {
    profile = JSON.parse(text) as typeof profile;
  } catch (e) {
    return fail(
      `${file} is not valid JSON: ${(e as Error).message}`,
      'apt-get install --reinstall golang-github-containers-common',
    );
  }
  if (typeof profile.defaultAction !== 'string') {
    return fail(`${file} has no defaultAction`, 'apt-get install --reinstall golang-github-containers-common');
  }
  const rules = Array.isArray(profile.syscalls) ? profile.syscalls.length : 0;
  return ok(`${file}: default ${profile.defaultAction}, ${rules} rules`);
}
