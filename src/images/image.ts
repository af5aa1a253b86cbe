import type { Digest } from '../content/index.js';

/** The parts of an OCI image config den reads (image-spec config.md). */
export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  /** The CPU variant (arm's v7, arm64's v8), where the image names one. */
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    StopSignal?: string;
    Healthcheck?: ImageHealthcheck;
  };
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

/** docker's HEALTHCHECK in an image config, durations in nanoseconds. */
export interface ImageHealthcheck {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

export interface LayerRef {
  /** Digest of the blob as stored (possibly compressed). */
  digest: Digest;
  mediaType: string;
  /** Size of the blob. */
  size: number;
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  chainId: Digest;
}

export interface ImageRecord {
  /** The config digest: docker's image id. */
  id: Digest;
  manifestDigest: Digest;
  config: ImageConfig;
  layers: LayerRef[];
  /** Bytes of unpacked content. */
  size: number;
  createdAt: string;
  /** Canonical tagged references pointing at this image: registry/repo:tag. */
  names: string[];
  /**
   * Repository digests (docker's RepoDigests), canonical: registry/repo@sha256:<hex>, the digest
   * the registry served for the reference pulled (an index's, for a multi-platform image).
   */
  digests: string[];
}

/** The PATH a container gets when its image sets none (docker's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The media types den reads and writes: OCI's, and Docker's schema 2 equivalents that registries
 * still serve for most images. Docker schema 1 is not supported.
 */
export const MEDIA_TYPES = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  /** Non-distributable layers (deprecated by OCI): fetched from their `urls`, never pushed. */
  layerForeign: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  layerForeignGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  layerForeignZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;
