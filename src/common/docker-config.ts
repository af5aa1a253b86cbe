import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * docker's CLI configuration file, which den shares with docker: $DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json. Registry logins live there (registry/credentials.ts), and so do the
 * docker CLI's own defaults den honours (`psFormat`, `imagesFormat`: cli/configured-format.ts).
 */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
}
