import type { CommandSpec, Parsed } from '../flags.js';
import { str } from '../flags.js';
import { notFound } from '../../common/errors.js';
import type { ContainerRecord } from '../../containers/index.js';
import { reconcile, type EngineContext } from '../../engine/index.js';
import { familiarName, parseReference, type ImageRecord } from '../../images/index.js';
import { parseTemplate } from '../template/index.js';
import { printError } from '../errors.js';

export const spec: CommandSpec = {
  path: 'inspect',
  usage: 'inspect [OPTIONS] NAME|ID [NAME|ID...]',
  summary: 'Return low-level information on containers and images',
  minArgs: 1,
  flags: [
    { long: 'format', short: 'f', type: 'string', help: 'Format output using a template like {{.Id}}' },
    { long: 'type', type: 'string', help: 'Only inspect objects of this type: container or image' },
  ],
};

export async function handler(p: Parsed, ctx: EngineContext): Promise<number> {
  const type = str(p, 'type');
  const format = str(p, 'format');
  // docker parses the template before it looks anything up: a bad one prints nothing else.
  const template = format && format !== 'json' ? parseTemplate(format) : undefined;
  const found: Record<string, unknown>[] = [];
  let status = 0;
  for (const ref of p.args) {
    try {
      found.push(inspectOne(ctx, ref, type));
    } catch (e) {
      printError(e);
      status = 1;
    }
  }
  if (template) process.stdout.write(found.map((o) => template.execute(o) + '\n').join(''));
  else process.stdout.write(JSON.stringify(found, null, 4) + '\n');
  return status;
}

function inspectOne(ctx: EngineContext, ref: string, type: string | undefined): Record<string, unknown> {
  if (type !== 'image') {
    try {
      return containerJson(ctx, reconcile(ctx, ctx.containers.resolve(ref)));
    } catch (e) {
      if (type === 'container') throw e;
    }
  }
  const image = ctx.images.find(ref);
  if (!image) throw notFound('DEN0702', `no such object: ${ref}`);
  return imageJson(image);
}

/** The fields of docker's container inspect that den has, with docker's names. */
export function containerJson(ctx: EngineContext, c: ContainerRecord): Record<string, unknown> {
  const b = ctx.layout.bundle(c.id);
  return {
    Id: c.id,
    Created: c.createdAt,
    Path: c.config.args[0],
    Args: c.config.args.slice(1),
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Pid: c.status === 'running' ? c.pid : 0,
      ExitCode: c.exitCode ?? 0,
      StartedAt: c.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: c.finishedAt ?? '0001-01-01T00:00:00Z',
    },
    Image: c.imageId,
    Name: `/${c.name}`,
    Driver: 'overlay',
    HostnamePath: b.hostname,
    HostsPath: b.hosts,
    ResolvConfPath: b.resolvConf,
    Config: {
      Hostname: c.config.hostname,
      User: c.config.user,
      Tty: c.config.tty,
      OpenStdin: c.config.interactive,
      Env: c.config.env,
      Cmd: c.config.args,
      Image: c.imageName,
      WorkingDir: c.config.cwd,
    },
    HostConfig: {
      Binds: c.config.binds.map((m) => `${m.source}:${m.destination}${m.readOnly ? ':ro' : ''}`),
      NetworkMode: c.config.network,
      AutoRemove: c.config.autoRemove,
      ReadonlyRootfs: c.config.readOnly,
      Runtime: c.config.runtime,
      UsernsMode: c.config.usernsMode,
      IDMappings: c.config.idMap
        ? {
            UidMap: c.config.idMap.uid.map((e) => `${e.containerID}:${e.hostID}:${e.size}`),
            GidMap: c.config.idMap.gid.map((e) => `${e.containerID}:${e.hostID}:${e.size}`),
          }
        : null,
    },
    Mounts: c.config.binds.map((m) => ({
      Type: 'bind',
      Source: m.source,
      Destination: m.destination,
      Mode: m.readOnly ? 'ro' : '',
      RW: !m.readOnly,
      Propagation: 'rprivate',
    })),
    GraphDriver: {
      Name: 'overlay',
      Data: {
        LowerDir: c.config.layers
          .map((l) => ctx.layout.layerDir(l))
          .reverse()
          .join(':'),
        UpperDir: b.upper,
        WorkDir: b.work,
        MergedDir: b.rootfs,
      },
    },
  };
}

export function imageJson(image: ImageRecord): Record<string, unknown> {
  return {
    Id: image.id,
    RepoTags: image.names.map((n) => familiarName(parseReference(n))),
    RepoDigests: [],
    Created: image.config.created ?? image.createdAt,
    Author: image.config.author ?? '',
    Config: image.config.config ?? {},
    Architecture: image.config.architecture,
    Os: image.config.os,
    Size: image.size,
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    Metadata: { ManifestDigest: image.manifestDigest },
  };
}
