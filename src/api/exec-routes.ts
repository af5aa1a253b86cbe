/**
 * Exec instances: docker creates one (POST /containers/{id}/exec), starts it on a hijacked
 * connection (POST /exec/{id}/start), then asks its exit code (GET /exec/{id}/json). The instance
 * lives in the service's memory, as in dockerd's; the process runs through the engine's exec.
 */
import { randomBytes } from 'node:crypto';
import { conflict, invalidArgument, isDenError, notFound } from '../common/errors.js';
import { execContainer, resolveEnv, type EngineContext, type ExecSpec } from '../engine/index.js';
import { container } from './container-routes.js';
import { dockerError } from './api-errors.js';
import { hijack } from './hijack.js';
import { queryInt, readJson, type Route } from './router.js';

interface ExecInstance {
  id: string;
  containerId: string;
  spec: ExecSpec;
  attach: { stdin: boolean; stdout: boolean; stderr: boolean };
  running: boolean;
  exitCode: number | null;
  resize?: (size: { height: number; width: number }) => void;
}

/** Exec instances per engine (one per service); an ended one is kept for its exit code a while. */
const instances = new WeakMap<EngineContext, Map<string, ExecInstance>>();
const KEEP_ENDED_MS = 5 * 60 * 1000;

const instancesOf = (ctx: EngineContext) => {
  let map = instances.get(ctx);
  if (!map) instances.set(ctx, (map = new Map()));
  return map;
};

function instance(ctx: EngineContext, id: string): ExecInstance {
  const found = instancesOf(ctx).get(id);
  if (!found) throw notFound('DEN1411', `no such exec instance: ${id}`);
  return found;
}

const stringList = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((e) => typeof e !== 'string')) {
    throw invalidArgument('DEN1404', `${what}: expected a list of strings`);
  }
  return v as string[];
};

export const execRoutes: Route[] = [
  {
    method: 'POST',
    pattern: '/containers/{id}/exec',
    async handler({ ctx, params, req }) {
      const c = container(ctx, params.id!);
      const body = await readJson(req);
      const command = stringList(body.Cmd, 'Cmd');
      if (command.length === 0) throw invalidArgument('DEN1404', 'Cmd: no command given');
      const id = randomBytes(32).toString('hex');
      const spec: ExecSpec = {
        command,
        env: resolveEnv(stringList(body.Env, 'Env'), () => undefined),
        ...(typeof body.User === 'string' && body.User !== '' ? { user: body.User } : {}),
        ...(typeof body.WorkingDir === 'string' && body.WorkingDir !== '' ? { workdir: body.WorkingDir } : {}),
        privileged: body.Privileged === true,
        tty: body.Tty === true,
        interactive: body.AttachStdin === true,
        detach: false,
      };
      instancesOf(ctx).set(id, {
        id,
        containerId: c.id,
        spec,
        attach: {
          stdin: body.AttachStdin === true,
          stdout: body.AttachStdout === true,
          stderr: body.AttachStderr === true,
        },
        running: false,
        exitCode: null,
      });
      return { status: 201, body: { Id: id } };
    },
  },
  {
    method: 'POST',
    pattern: '/exec/{id}/start',
    async handler(call) {
      const { ctx, params, req } = call;
      const exec = instance(ctx, params.id!);
      const body = await readJson(req);
      if (exec.running || exec.exitCode !== null) {
        throw conflict('DEN1412', `exec instance ${exec.id.slice(0, 12)} has already been started`);
      }
      exec.running = true;
      const forget = () => setTimeout(() => instancesOf(ctx).delete(exec.id), KEEP_ENDED_MS).unref();
      if (body.Detach === true) {
        try {
          exec.exitCode = await execContainer(
            ctx,
            exec.containerId,
            { ...exec.spec, detach: true },
            {
              stdinIsTTY: exec.spec.tty,
              stdin: req,
              stdout: req.socket,
            },
          );
        } finally {
          exec.running = false;
          forget();
        }
        return { status: 200 };
      }
      const conn = hijack(call, exec.spec.tty);
      try {
        exec.exitCode = await execContainer(ctx, exec.containerId, exec.spec, {
          stdinIsTTY: exec.spec.tty,
          stdin: conn.input,
          stdout: conn.stdout,
          piped: { stderr: conn.stderr },
          onResize: (resized) => {
            exec.resize = resized;
            return () => delete exec.resize;
          },
        });
      } catch (e) {
        // The stream began: the failure goes to the client's stderr, and the exit code says it,
        // docker's 127 for a command that is not there, 126 for one that cannot run.
        conn.stderr.write(`${dockerError(e).message}\n`);
        exec.exitCode = isDenError(e) && e.reason === 'command-not-found' ? 127 : 126;
      } finally {
        exec.running = false;
        forget();
      }
      conn.end();
      return undefined;
    },
  },
  {
    method: 'GET',
    pattern: '/exec/{id}/json',
    handler({ ctx, params }) {
      const exec = instance(ctx, params.id!);
      const [entrypoint = '', ...args] = exec.spec.command;
      return {
        status: 200,
        body: {
          ID: exec.id,
          Running: exec.running,
          ExitCode: exec.exitCode,
          ProcessConfig: {
            tty: exec.spec.tty,
            entrypoint,
            arguments: args,
            privileged: exec.spec.privileged,
            user: exec.spec.user ?? '',
          },
          OpenStdin: exec.attach.stdin,
          OpenStderr: exec.attach.stderr,
          OpenStdout: exec.attach.stdout,
          CanRemove: false,
          ContainerID: exec.containerId,
          DetachKeys: '',
          Pid: 0,
        },
      };
    },
  },
  {
    method: 'POST',
    pattern: '/exec/{id}/resize',
    handler({ ctx, params, query }) {
      const exec = instance(ctx, params.id!);
      exec.resize?.({ height: queryInt(query, 'h') ?? 0, width: queryInt(query, 'w') ?? 0 });
      return { status: 200 };
    },
  },
];
