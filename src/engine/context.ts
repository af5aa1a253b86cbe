import { join } from 'node:path';
import { ensureDataDir, type DenPaths } from '../common/paths.js';
import { failedPrecondition } from '../common/errors.js';
import { readFileSync } from 'node:fs';
import { cgroupLayout, type CgroupLayout } from '../cgroups/index.js';
import { parseMountinfo } from '../common/mountinfo.js';
import { ContainerStore, NetworkStore, VolumeStore, type ContainerChange } from '../containers/index.js';
import { EventJournal, type DenEvent } from '../events/index.js';
import { ContentStore } from '../content/index.js';
import {
  addRangeCommand,
  hostId,
  newIdMapArgs,
  readSubordinateRanges,
  sessionMap,
  toContainer,
  validateIdMap,
  type IdMap,
} from '../idmap/index.js';
import { ImageStore } from '../images/index.js';
import { HostNamespaces, RootlessSession, type Namespaces, type SessionMaps } from '../session/index.js';
import {
  chooseShift,
  LayerStore,
  ownerTag,
  StoreLayout,
  type ShiftChoice,
  type SnapshotContext,
} from '../snapshots/index.js';
import { openDatabase, type Db } from '../state/index.js';
import type { EngineConfig } from './config.js';
import { changeEvent } from './events.js';
import { tightenStoreOnce } from './store-modes.js';

/**
 * What the engine tells its caller while it works, for the caller to render (the CLI prints
 * warnings to stderr; an API server would send them to its client). The engine itself prints nothing.
 */
export interface EngineEvents {
  /** Something the caller should know that did not stop the work. */
  warning(message: string): void;
}

const IGNORE_EVENTS: EngineEvents = { warning: () => {} };

/**
 * What every use case works with, opened lazily: a command that only lists images never creates
 * the rootless session, and one that fails on its flags never opens the database.
 */
export class EngineContext implements SnapshotContext {
  readonly paths: DenPaths;
  readonly layout: StoreLayout;
  readonly uid: number;
  readonly gid: number;
  private _db: Db | undefined;
  private _ns: Namespaces | undefined;
  private _sessionIdMaps: { uid: IdMap; gid: IdMap } | undefined;
  private _rootlessShift: ShiftChoice | undefined;
  private _cgroupLayout: CgroupLayout | undefined;
  private _journal: EventJournal | undefined;

  constructor(
    readonly config: EngineConfig,
    readonly events: EngineEvents = IGNORE_EVENTS,
  ) {
    this.uid = config.user.uid;
    this.gid = config.user.gid;
    this.paths = config.paths;
    this.layout = new StoreLayout(this.paths.dataDir);
  }

  get rootless(): boolean {
    return this.paths.rootless;
  }

  get searchPath(): string {
    return this.config.searchPath;
  }

  get idmapHelperDirs(): readonly string[] {
    return this.config.idmapHelperDirs;
  }

  get self(): EngineConfig['self'] {
    return this.config.self;
  }

  /** How this host mounts cgroups, read on first use (containers with limits, and their removal). */
  get cgroupLayout(): CgroupLayout {
    this._cgroupLayout ??= cgroupLayout(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')));
    return this._cgroupLayout;
  }

  get db(): Db {
    if (!this._db) {
      this._db = openDatabase(this.paths.dataDir);
      // A store made before the permission model is narrowed to it on first use (once).
      tightenStoreOnce(this);
    }
    return this._db;
  }

  get images(): ImageStore {
    return new ImageStore(this.db);
  }

  get containers(): ContainerStore {
    return new ContainerStore(this.db, (change: ContainerChange) => {
      const event = changeEvent(change);
      if (event) this.emit(event);
    });
  }

  /** Named and anonymous volumes (den volume, -v NAME:/path). */
  get volumes(): VolumeStore {
    return new VolumeStore(this.db);
  }

  /** User-defined networks and the containers attached to them. */
  get networks(): NetworkStore {
    return new NetworkStore(this.db);
  }

  /** den's events journal, under the data directory: every den appends, `den events` reads it. */
  get journal(): EventJournal {
    this._journal ??= new EventJournal(join(this.paths.dataDir, 'events.log'));
    return this._journal;
  }

  /**
   * Records an event in the journal. The work it tells of is done: a journal that cannot be
   * written loses the event with a warning, and fails nothing.
   */
  emit(event: DenEvent): void {
    try {
      this.journal.append(event);
    } catch (e) {
      this.events.warning(`events journal ${this.journal.path}: ${(e as Error).message}`);
    }
  }

  get layers(): LayerStore {
    return new LayerStore(this.db);
  }

  get content(): ContentStore {
    ensureDataDir(this.paths.dataDir);
    return new ContentStore(this.layout.contentDir, ownerTag);
  }

  /** The namespaces storage mounts and runtime calls happen in: the host's as root, else the session's. */
  get ns(): Namespaces {
    this._ns ??= this.paths.rootless
      ? new RootlessSession(this.paths.runtimeDir, () => this.sessionMaps())
      : new HostNamespaces();
    return this._ns;
  }

  /** The rootless session's maps: own uid to 0, then every subordinate range of ours, in file order. */
  sessionMaps(): SessionMaps {
    const { uid, gid } = this.sessionIdMaps();
    return { uidArgs: newIdMapArgs(uid), gidArgs: newIdMapArgs(gid) };
  }

  /**
   * The id a host id has in the rootless session (as root, the same id), or undefined when the
   * session does not map it: what a file den sees owned by `id` is owned by for the session.
   */
  sessionId(kind: 'uid' | 'gid', id: number): number | undefined {
    if (!this.paths.rootless) return id;
    return toContainer(this.sessionIdMaps()[kind], hostId(id));
  }

  /**
   * The rootless session's id maps, from /etc/subuid and /etc/subgid (read once per command: they
   * do not change under one).
   */
  sessionIdMaps(): { uid: IdMap; gid: IdMap } {
    if (this._sessionIdMaps) return this._sessionIdMaps;
    const user = { name: this.config.user.name, uid: this.uid };
    const uidRanges = readSubordinateRanges('uid', user);
    const gidRanges = readSubordinateRanges('gid', user);
    for (const [kind, ranges] of [
      ['uid', uidRanges],
      ['gid', gidRanges],
    ] as const) {
      if (ranges.length === 0) {
        throw failedPrecondition(
          'DEN0503',
          `user ${user.name} (uid ${this.uid}) has no subordinate ${kind} range in /etc/sub${kind}`,
          {
            hint: `ask an administrator to add one: ${addRangeCommand(user.name, ['/etc/subuid', '/etc/subgid'])}`,
          },
        );
      }
    }
    const uid = sessionMap(this.uid, uidRanges);
    const gid = sessionMap(this.gid, gidRanges);
    validateIdMap(uid, 'uid');
    validateIdMap(gid, 'gid');
    this._sessionIdMaps = { uid, gid };
    return this._sessionIdMaps;
  }

  /**
   * How this den shifts a rootless container's ids (snapshots' chooseShift with the engine's
   * configuration). Asked by the default --userns and again by create when it is auto; the reflink
   * probe writes and clones a file, so the answer is taken once per context.
   */
  rootlessShift(): ShiftChoice {
    this._rootlessShift ??= chooseShift({
      dataDir: this.paths.dataDir,
      searchPath: this.config.searchPath,
      preference: this.config.shift,
      idmapHelperDirs: this.config.idmapHelperDirs,
      ids: { uid: this.uid, gid: this.gid },
    });
    return this._rootlessShift;
  }

  close(): void {
    this._db?.close();
    this._db = undefined;
  }
}
