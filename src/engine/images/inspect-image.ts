import { hexOf } from '../../content/index.js';
import { familiarName, parseReference, type ImageRecord } from '../../images/index.js';
import type { EngineContext } from '../context.js';
import type { ContainerConfigJson, GraphDriverData } from '../containers/inspect-container.js';

/**
 * An image as docker's Engine API (version 1.41, GET /images/{name}/json) describes it, with
 * docker's field names and types. den builds images from registries and archives, never from a
 * container, so Parent, Container and ContainerConfig hold docker's empty values. The history is
 * `den history`'s (docker's GET /images/{name}/history), and the manifest digest is in RepoDigests.
 */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  Container: string;
  ContainerConfig: ContainerConfigJson;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfigJson;
  Architecture: string;
  Variant?: string;
  Os: string;
  OsVersion?: string;
  Size: number;
  VirtualSize: number;
  GraphDriver: GraphDriverData;
  RootFS: { Type: string; Layers: string[] };
  Metadata: { LastTagTime: string };
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The parts of an OCI config den's ImageConfig type leaves out, read as docker does. */
interface ConfigExtras {
  'os.version'?: unknown;
  comment?: unknown;
}

export function inspectImage(ctx: EngineContext, image: ImageRecord): ImageInspect {
  const cfg = image.config.config ?? {};
  const extras = image.config as ConfigExtras;
  const config: ContainerConfigJson = {
    ...emptyConfig(),
    User: cfg.User ?? '',
    ...(cfg.ExposedPorts && Object.keys(cfg.ExposedPorts).length ? { ExposedPorts: cfg.ExposedPorts } : {}),
    Env: cfg.Env ?? null,
    Cmd: cfg.Cmd ?? null,
    ...(cfg.Healthcheck ? { Healthcheck: cfg.Healthcheck } : {}),
    Volumes: cfg.Volumes ?? null,
    WorkingDir: cfg.WorkingDir ?? '',
    Entrypoint: cfg.Entrypoint ?? null,
    Labels: cfg.Labels ?? null,
    ...(cfg.StopSignal ? { StopSignal: cfg.StopSignal } : {}),
  };
  // The overlay docker would mount: the top layer as its upper directory, the others below it.
  const dirs = image.layers.map((l) => ctx.layout.layerDir(hexOf(l.chainId))).reverse();
  const [upper, ...lower] = dirs;
  return {
    Id: image.id,
    RepoTags: image.names.map((n) => familiarName(parseReference(n))),
    RepoDigests: image.digests.map((n) => familiarName(parseReference(n))),
    Parent: '',
    Comment: typeof extras.comment === 'string' ? extras.comment : '',
    Created: image.config.created ?? image.createdAt,
    Container: '',
    ContainerConfig: emptyConfig(),
    DockerVersion: '',
    Author: image.config.author ?? '',
    Config: config,
    Architecture: image.config.architecture,
    ...(typeof image.config.variant === 'string' ? { Variant: image.config.variant } : {}),
    Os: image.config.os,
    ...(typeof extras['os.version'] === 'string' ? { OsVersion: extras['os.version'] } : {}),
    Size: image.size,
    VirtualSize: image.size,
    GraphDriver: {
      Name: 'overlay',
      Data: { ...(lower.length ? { LowerDir: lower.join(':') } : {}), ...(upper ? { UpperDir: upper } : {}) },
    },
    RootFS: { Type: 'layers', Layers: image.config.rootfs.diff_ids },
    // den does not record when a name was last given: docker's value for an image never tagged here.
    Metadata: { LastTagTime: ZERO_TIME },
  };
}

function emptyConfig(): ContainerConfigJson {
  return {
    Hostname: '',
    Domainname: '',
    User: '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: null,
    Cmd: null,
    Image: '',
    Volumes: null,
    WorkingDir: '',
    Entrypoint: null,
    OnBuild: null,
    Labels: null,
  };
}
