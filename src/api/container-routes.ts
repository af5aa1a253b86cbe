/**
 * /containers: each endpoint parses its request into what the engine's use case takes, calls it,
 * and renders its answer in docker's JSON. No behaviour lives here.
 */
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { describeStatus } from '../containers/index.js';
import {
  archiveFromContainer,
  containerChanges,
  containerLogs,
  createContainer,
  extractToContainer,
  inspectContainer,
  killContainer,
  listContainers,
  parseContainerFilters,
  parseLogTime,
  parsePruneFilters,
  parseSignal,
  pauseContainer,
  planLimits,
  pruneContainers,
  publishedPorts,
  reconcile,
  removeContainer,
  renameContainer,
  restartContainer,
  sampleStats,
  startContainer,
  statsBetween,
  stopContainer,
  topContainer,
  unpauseContainer,
  waitContainer,
  type EngineContext,
  type ListedContainer,
  type WaitCondition,
} from '../engine/index.js';
import { invalidArgument, isDenError, notFound } from '../common/errors.js';
import { queryBool, queryFilters, queryInt, readJson, type Reply, type Route } from './router.js';
import { createSpecFromRequest } from './create-request.js';
import { frame } from './stream-framing.js';
import { dockerError } from './api-errors.js';
import { startWithPendingAttach } from './attach-routes.js';

const NO_CONTENT: Reply = { status: 204 };

/** The container a path names, reconciled with its processes: 404 "No such container: REF" when there is none. */
export function container(ctx: EngineContext, ref: string) {
  try {
    return reconcile(ctx, ctx.containers.resolve(ref));
  } catch (e) {
    // docker's message names the reference as given (an ambiguous prefix stays its own error).
    if (isDenError(e) && e.kind === 'NotFound') throw notFound('DEN0603', `no such container: ${ref}`, { cause: e });
    throw e;
  }
}

/** docker's types.Container, one row of GET /containers/json. */
function summary(ctx: EngineContext, { container: c, sizeRw, sizeRootFs }: ListedContainer) {
  const ports = publishedPorts(ctx, c).map((p) => ({
    IP: p.hostIp || '0.0.0.0',
    PrivatePort: p.containerPort,
    PublicPort: p.hostPort,
    Type: p.protocol,
  }));
  const exposedOnly = (c.config.networking?.exposed ?? [])
    .map((key) => {
      const [port = '0', type = 'tcp'] = key.split('/');
      return { PrivatePort: Number(port), Type: type };
    })
    .filter((e) => !ports.some((p) => p.PrivatePort === e.PrivatePort && p.Type === e.Type));
  const inspected = inspectContainer(ctx, c);
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.imageName,
    ImageID: c.imageId,
    Command: c.config.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' '),
    Created: Math.floor(Date.parse(c.createdAt) / 1000),
    Ports: [...ports, ...exposedOnly],
    Labels: c.config.labels ?? {},
    State: c.status,
    Status: describeStatus(c),
    HostConfig: { NetworkMode: c.config.network },
    NetworkSettings: { Networks: inspected.NetworkSettings.Networks ?? {} },
    Mounts: inspected.Mounts,
    ...(sizeRw !== undefined ? { SizeRw: sizeRw } : {}),
    ...(sizeRootFs !== undefined ? { SizeRootFs: sizeRootFs } : {}),
  };
}

/** stop's and restart's `t` (seconds) and `signal`. */
function stopOptions(query: URLSearchParams) {
  const t = queryInt(query, 't');
  const signal = query.get('signal');
  return {
    ...(t !== undefined ? { timeoutSeconds: t } : {}),
    ...(signal ? { signal: parseSignal(signal, 'signal') } : {}),
  };
}

/** docker's stats JSON from two samples (the docker CLI computes its columns from these fields). */
function statsJson(
  ctx: EngineContext,
  ref: string,
  before: ReturnType<typeof sampleStats>,
  now: ReturnType<typeof sampleStats>,
) {
  const c = container(ctx, ref);
  const s = statsBetween(c, before, now);
  const cpu = (x: typeof now) => ({
    cpu_usage: { total_usage: x?.cpuNs ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: x?.systemNs ?? 0,
    online_cpus: x?.onlineCpus ?? 0,
    throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
  });
  return {
    id: c.id,
    name: `/${c.name}`,
    read: new Date().toISOString(),
    preread: before ? new Date(Date.now() - 1000).toISOString() : '0001-01-01T00:00:00Z',
    pids_stats: { current: s.pids },
    cpu_stats: cpu(now),
    precpu_stats: cpu(before),
    memory_stats: { usage: s.memoryUsage, limit: s.memoryLimit, stats: {} },
    blkio_stats: {
      io_service_bytes_recursive: [
        { major: 0, minor: 0, op: 'read', value: s.blockRead },
        { major: 0, minor: 0, op: 'write', value: s.blockWrite },
      ],
    },
    networks: { eth0: { rx_bytes: s.netRx, tx_bytes: s.netTx } },
  };
}

function writeAll(res: ServerResponse, data: Buffer | string): Promise<void> | void {
  if (res.write(data)) return;
  return new Promise((resolve) => res.once('drain', resolve));
}

/**
 * The X-Docker-Container-Path-Stat header of the archive endpoints: the path's stat as base64 JSON,
 * its mode in Go's FileMode bits (a directory's is bit 31), which docker's cp reads for its rules.
 */
function pathStat(path: string, isDir: boolean): string {
  const name = path.split('/').filter(Boolean).at(-1) ?? '/';
  const mode = isDir ? 0x80000000 + 0o755 : 0o644;
  return Buffer.from(JSON.stringify({ name, size: 0, mode, mtime: new Date().toISOString(), linkTarget: '' })).toString(
    'base64',
  );
}

export const containerRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/containers/json',
    handler: ({ ctx, query }) => {
      const limit = queryInt(query, 'limit');
      const listed = listContainers(ctx, {
        all: queryBool(query, 'all'),
        filters: parseContainerFilters(queryFilters(query)),
        ...(limit !== undefined && limit > 0 ? { last: limit } : {}),
        size: queryBool(query, 'size'),
      });
      return { status: 200, body: listed.map((l) => summary(ctx, l)) };
    },
  },
  {
    method: 'POST',
    pattern: '/containers/create',
    async handler({ ctx, query, req }) {
      const spec = createSpecFromRequest(await readJson(req), query.get('name') ?? undefined);
      // docker's clients pull on this 404 and create again.
      if (!ctx.images.find(spec.image)) throw notFound('DEN0420', `no such image: ${spec.image}`);
      planLimits(ctx, spec.limits);
      const c = await createContainer(ctx, spec);
      return { status: 201, body: { Id: c.id, Warnings: [] } };
    },
  },
  {
    method: 'POST',
    pattern: '/containers/prune',
    async handler({ ctx, query }) {
      const filters = parsePruneFilters(queryFilters(query), (text) =>
        Number(parseLogTime(text, 'until') / 1_000_000n),
      );
      const pruned = await pruneContainers(ctx, filters);
      return { status: 200, body: { ContainersDeleted: pruned.deleted, SpaceReclaimed: pruned.reclaimed } };
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/json',
    handler: ({ ctx, params }) => ({ status: 200, body: inspectContainer(ctx, container(ctx, params.id!)) }),
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/start',
    async handler({ ctx, params }) {
      const c = container(ctx, params.id!);
      // docker answers 304 for a container that already runs.
      if (c.status === 'running' || c.status === 'paused') return { status: 304 };
      if (!(await startWithPendingAttach(ctx, c.id))) await startContainer(ctx, c.id);
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/stop',
    async handler({ ctx, params, query }) {
      const c = container(ctx, params.id!);
      if (c.status !== 'running' && c.status !== 'paused' && c.status !== 'restarting') return { status: 304 };
      await stopContainer(ctx, c.id, stopOptions(query));
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/restart',
    async handler({ ctx, params, query }) {
      await restartContainer(ctx, container(ctx, params.id!).id, stopOptions(query));
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/kill',
    handler({ ctx, params, query }) {
      const signal = query.get('signal');
      killContainer(ctx, container(ctx, params.id!).id, signal ? parseSignal(signal, 'signal') : 'KILL');
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/wait',
    // dockerd sends the headers at once and the status when the wait ends: docker's clients
    // (run's next-exit wait, set up before the start) return from the request on its headers.
    async handler({ ctx, params, query, res, signal }) {
      const c = container(ctx, params.id!);
      const condition = query.get('condition') || 'not-running';
      if (!['not-running', 'next-exit', 'removed'].includes(condition)) {
        throw invalidArgument('DEN1408', `invalid condition ${JSON.stringify(condition)}`, {
          hint: 'use not-running, next-exit or removed',
        });
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      let code: number;
      try {
        code = await waitContainer(ctx, c.id, condition as WaitCondition, signal);
      } catch (e) {
        res.end(JSON.stringify({ StatusCode: -1, Error: { Message: dockerError(e).message } }));
        return undefined;
      }
      res.end(JSON.stringify({ StatusCode: code, Error: null }));
      return undefined;
    },
  },
  {
    method: 'DELETE',
    pattern: '/containers/{id}',
    async handler({ ctx, params, query }) {
      if (queryBool(query, 'link')) {
        throw invalidArgument('DEN1404', 'link: den has no container links', { hint: 'leave link out' });
      }
      // v: the container's anonymous volumes go with it (den rm -v).
      await removeContainer(ctx, container(ctx, params.id!).id, queryBool(query, 'force'), queryBool(query, 'v'));
      return NO_CONTENT;
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/logs',
    async handler({ ctx, params, query, res, signal }) {
      const c = container(ctx, params.id!);
      const stdout = queryBool(query, 'stdout');
      const stderr = queryBool(query, 'stderr');
      if (!stdout && !stderr) {
        throw invalidArgument('DEN1408', 'you must choose at least one stream', { hint: 'add stdout=1 or stderr=1' });
      }
      const tailText = query.get('tail');
      const tail = tailText && tailText !== 'all' && Number(tailText) >= 0 ? Number(tailText) : undefined;
      const since = query.get('since');
      const until = query.get('until');
      const timestamps = queryBool(query, 'timestamps');
      const tty = c.config.tty;
      res.writeHead(200, {
        'Content-Type': tty ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream',
      });
      res.flushHeaders();
      try {
        await containerLogs(
          ctx,
          c.id,
          {
            follow: queryBool(query, 'follow'),
            ...(since && since !== '0' ? { since: parseLogTime(since, 'since') } : {}),
            ...(until && until !== '0' ? { until: parseLogTime(until, 'until') } : {}),
            ...(tail !== undefined ? { tail } : {}),
            signal,
          },
          (line) => {
            if (signal.aborted) throw signal.reason;
            if (line.stream === 'stdout' ? !stdout : !stderr) return;
            const prefix = timestamps ? `${new Date(Number(line.time / 1_000_000n)).toISOString()} ` : '';
            const text = Buffer.concat([Buffer.from(prefix), line.text, Buffer.from(line.complete ? '\n' : '')]);
            return writeAll(res, tty ? text : frame(line.stream === 'stdout' ? 1 : 2, text));
          },
        );
      } catch (e) {
        if (!signal.aborted) throw e;
      }
      res.end();
      return undefined;
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/top',
    handler({ ctx, params, query }) {
      const psArgs = (query.get('ps_args') ?? '').split(/\s+/).filter(Boolean);
      const top = topContainer(ctx, container(ctx, params.id!).id, psArgs);
      return { status: 200, body: { Titles: top.titles, Processes: top.processes } };
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/stats',
    async handler({ ctx, params, query, res, signal }) {
      const c = container(ctx, params.id!);
      const stream = queryBool(query, 'stream', true) && !queryBool(query, 'one-shot');
      if (!stream) {
        const before = sampleStats(ctx, c);
        // docker's one answer has a precpu reading a moment before, for the CPU %.
        await new Promise((r) => setTimeout(r, queryBool(query, 'one-shot') ? 0 : 1000));
        return { status: 200, body: statsJson(ctx, c.id, before, sampleStats(ctx, c)) };
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      let before = sampleStats(ctx, c);
      while (!signal.aborted) {
        const now = sampleStats(ctx, c);
        res.write(`${JSON.stringify(statsJson(ctx, c.id, before, now))}\n`);
        before = now;
        if (!now) break;
        await new Promise((r) => setTimeout(r, 1000));
      }
      res.end();
      return undefined;
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/changes',
    async handler({ ctx, params }) {
      const changes = await containerChanges(ctx, container(ctx, params.id!).id);
      const KIND = { C: 0, A: 1, D: 2 } as const;
      return { status: 200, body: changes.map((c) => ({ Path: c.path, Kind: KIND[c.kind] })) };
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/rename',
    handler({ ctx, params, query }) {
      const name = query.get('name');
      if (!name) throw invalidArgument('DEN1408', 'rename: no name given', { hint: 'add name=NEW_NAME' });
      renameContainer(ctx, container(ctx, params.id!).id, name);
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/pause',
    handler({ ctx, params }) {
      pauseContainer(ctx, container(ctx, params.id!).id);
      return NO_CONTENT;
    },
  },
  {
    method: 'POST',
    pattern: '/containers/{id}/unpause',
    handler({ ctx, params }) {
      unpauseContainer(ctx, container(ctx, params.id!).id);
      return NO_CONTENT;
    },
  },
  {
    method: 'GET',
    pattern: '/containers/{id}/archive',
    async handler({ ctx, params, query, res }) {
      const path = query.get('path');
      if (!path) throw invalidArgument('DEN1408', 'archive: no path given', { hint: 'add path=/PATH/IN/CONTAINER' });
      const c = container(ctx, params.id!);
      // The path's stat goes in a header, so the answer begins once the worker said what the path is.
      await archiveFromContainer(ctx, { container: c.id, path, followLink: false }, res, (source) => {
        res.writeHead(200, {
          'Content-Type': 'application/x-tar',
          'X-Docker-Container-Path-Stat': pathStat(path, source.isDir),
        });
      });
      res.end();
      return undefined;
    },
  },
  {
    method: 'HEAD',
    pattern: '/containers/{id}/archive',
    // The path's stat alone: the archive is begun and dropped once the worker said what the path is.
    async handler({ ctx, params, query }) {
      const path = query.get('path');
      if (!path) throw invalidArgument('DEN1408', 'archive: no path given', { hint: 'add path=/PATH/IN/CONTAINER' });
      const c = container(ctx, params.id!);
      let isDir: boolean | undefined;
      const sink = new Writable({ write: (_chunk, _encoding, callback) => callback(new Error('stat only')) });
      try {
        await archiveFromContainer(
          ctx,
          { container: c.id, path, followLink: false },
          sink,
          (source) => (isDir = source.isDir),
        );
      } catch (e) {
        if (isDir === undefined) throw e;
      }
      if (isDir === undefined) throw notFound('DEN1401', `no such file or directory: ${path}`);
      return { status: 200, headers: { 'X-Docker-Container-Path-Stat': pathStat(path, isDir) } };
    },
  },
  {
    method: 'PUT',
    pattern: '/containers/{id}/archive',
    async handler({ ctx, params, query, req }) {
      const path = query.get('path');
      if (!path) throw invalidArgument('DEN1408', 'archive: no path given', { hint: 'add path=/PATH/IN/CONTAINER' });
      const c = container(ctx, params.id!);
      await extractToContainer(ctx, { container: c.id, path, keepOwners: queryBool(query, 'copyUIDGID') }, req);
      return { status: 200 };
    },
  },
];
