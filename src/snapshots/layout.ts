import { join } from 'node:path';

/**
 * Where unpacked layers and container file systems live under den's data directory:
 *
 *   layers/<chain-id hex>/        a committed layer, unpacked in canonical form (container ids)
 *   layers/.tmp-<random>/         a layer being unpacked; renamed into place only when complete
 *   shifted/<map key>/<chain-id hex>/   a layer copied with its owners shifted for one id mapping
 *                                 (rootless, where the copy is the chosen shift; see shifted-copy)
 *   shifted/<map key>/.tmp-<owner>-<random>/   such a copy being made
 *   containers/<id>/upper/        the container's writable layer
 *   containers/<id>/work/         overlayfs's work directory
 *   containers/<id>/rootfs/       where the overlay is mounted while the container runs
 *   containers/<id>/config.json   the OCI bundle's config (the bundle is containers/<id>)
 *   containers/<id>/hostname, hosts, resolv.conf   bind-mounted into the container
 *   containers/<id>/ctr.log       a detached container's output (k8s-file), kept until it is removed
 *   volumes/<name>/_data/         a volume's files (docker's layout), canonical owners (docs/volumes.md)
 */
export class StoreLayout {
  constructor(readonly dataDir: string) {}

  get layersDir(): string {
    return join(this.dataDir, 'layers');
  }

  layerDir(chainIdHex: string): string {
    return join(this.dataDir, 'layers', chainIdHex);
  }

  tmpLayerDir(random: string): string {
    return join(this.dataDir, 'layers', `.tmp-${random}`);
  }

  get shiftedDir(): string {
    return join(this.dataDir, 'shifted');
  }

  shiftedMapDir(key: string): string {
    return join(this.dataDir, 'shifted', key);
  }

  shiftedLayerDir(key: string, chainIdHex: string): string {
    return join(this.dataDir, 'shifted', key, chainIdHex);
  }

  get contentDir(): string {
    return join(this.dataDir, 'content');
  }

  get volumesDir(): string {
    return join(this.dataDir, 'volumes');
  }

  volumeDir(name: string): string {
    return join(this.dataDir, 'volumes', name);
  }

  /** What a container mounts: the volume's files. */
  volumeData(name: string): string {
    return join(this.dataDir, 'volumes', name, '_data');
  }

  get containersDir(): string {
    return join(this.dataDir, 'containers');
  }

  containerDir(id: string): string {
    return join(this.dataDir, 'containers', id);
  }

  bundle(id: string) {
    const dir = this.containerDir(id);
    return {
      dir,
      upper: join(dir, 'upper'),
      work: join(dir, 'work'),
      rootfs: join(dir, 'rootfs'),
      config: join(dir, 'config.json'),
      hostname: join(dir, 'hostname'),
      hosts: join(dir, 'hosts'),
      resolvConf: join(dir, 'resolv.conf'),
      /** The container's init pid, written by the runtime (--pid-file) when it starts. */
      pid: join(dir, 'pid'),
      /** A detached container's output, as its monitor writes it (monitor/container-log.ts). */
      log: join(dir, 'ctr.log'),
      /** The pid of a detached container's monitor (conmon). */
      monitorPid: join(dir, 'conmon.pid'),
      /** Written by conmon when the kernel killed the container for memory (docker's OOMKilled). */
      oom: join(dir, 'oom'),
    };
  }
}
