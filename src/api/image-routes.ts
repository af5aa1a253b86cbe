/** /images: list, pull (its JSON progress stream), inspect, tag, push, remove, history, prune, get and load. */
import type { ServerResponse } from 'node:http';
import { invalidArgument, notFound } from '../common/errors.js';
import {
  imageHistory,
  inspectImage,
  listImages,
  loadArchive,
  parseImageFilters,
  pruneImages,
  pullImage,
  pushImage,
  removeImage,
  saveArchive,
  tagImage,
  type EngineContext,
} from '../engine/index.js';
import { queryBool, queryFilters, type Route } from './router.js';
import { registryAccess } from './registry-auth.js';

/** The image a path names: 404 "No such image: REF" when there is none. */
function image(ctx: EngineContext, ref: string) {
  const found = ctx.images.find(ref);
  if (!found) throw notFound('DEN0420', `no such image: ${ref}`);
  return found;
}

/** A JSON progress stream (pull, push, load): one object a line, headers sent at once. */
function progressStream(res: ServerResponse) {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.flushHeaders();
  return (message: Record<string, unknown>) => res.write(`${JSON.stringify(message)}\n`);
}

/** A reference and a tag query parameter as one reference (`tag` may be a digest). */
function withTag(name: string, tag: string | null): string {
  if (!tag) return name;
  return tag.startsWith('sha256:') ? `${name}@${tag}` : `${name}:${tag}`;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

export const imageRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/images/json',
    handler: ({ ctx, query }) => ({ status: 200, body: listImages(ctx, parseImageFilters(queryFilters(query))) }),
  },
  {
    method: 'POST',
    pattern: '/images/create',
    async handler({ ctx, query, req, res, signal }) {
      const from = query.get('fromImage');
      if (!from) {
        throw invalidArgument(
          'DEN1404',
          query.get('fromSrc') ? 'import (fromSrc) is not served over the API yet' : 'no fromImage given',
          {
            hint: query.get('fromSrc') ? 'use den import' : 'add fromImage=NAME',
          },
        );
      }
      const reference = withTag(from, query.get('tag'));
      const send = progressStream(res);
      send({ status: `Pulling from ${from}`, id: query.get('tag') || 'latest' });
      const pulled = await pullImage(ctx, {
        reference,
        ...registryAccess(req),
        signal,
        onProgress: (e) => {
          if (e.kind === 'layer') {
            const status = {
              exists: 'Already exists',
              waiting: 'Waiting',
              pulling: 'Pulling fs layer',
              done: 'Pull complete',
            }[e.status];
            send({ status, progressDetail: {}, id: short(e.id) });
          } else if (e.kind === 'bytes') {
            send({ status: 'Downloading', progressDetail: { current: e.current, total: e.total }, id: short(e.id) });
          } else if (e.kind === 'resolved') {
            send({ status: `Digest: ${e.digest}` });
          }
        },
      });
      send({ status: `Status: Downloaded newer image for ${pulled.names[0] ?? reference}` });
      res.end();
      return undefined;
    },
  },
  {
    method: 'POST',
    pattern: '/images/prune',
    handler({ ctx, query }) {
      const entries = queryFilters(query);
      const dangling = entries.find((e) => e.startsWith('dangling='));
      const other = entries.find((e) => !e.startsWith('dangling='));
      if (other)
        throw invalidArgument('DEN1408', `invalid filter '${other}' for image prune`, {
          hint: 'den takes dangling=true|false',
        });
      const { removed, collected } = pruneImages(ctx, dangling === 'dangling=false' || dangling === 'dangling=0');
      return {
        status: 200,
        body: { ImagesDeleted: removed.map((id) => ({ Deleted: id })), SpaceReclaimed: collected.bytes },
      };
    },
  },
  {
    method: 'GET',
    pattern: '/images/get',
    async handler({ ctx, query, res }) {
      const refs = query.getAll('names');
      if (refs.length === 0) throw invalidArgument('DEN1408', 'no names given', { hint: 'add names=IMAGE' });
      refs.forEach((r) => image(ctx, r));
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await saveArchive(ctx, { refs, output: { stream: res } });
      res.end();
      return undefined;
    },
  },
  {
    method: 'POST',
    pattern: '/images/load',
    async handler({ ctx, query, req, res }) {
      const loaded = await loadArchive(ctx, { source: 'request body', input: req });
      const lines = loaded.flatMap((l) =>
        l.names.length > 0 ? l.names.map((n) => `Loaded image: ${n}`) : [`Loaded image ID: ${l.id}`],
      );
      if (queryBool(query, 'quiet'))
        return { status: 200, body: lines.map((stream) => ({ stream: `${stream}\n` })).at(-1) ?? {} };
      const send = progressStream(res);
      for (const line of lines) send({ stream: `${line}\n` });
      res.end();
      return undefined;
    },
  },
  {
    method: 'GET',
    pattern: '/images/{name*}/json',
    handler: ({ ctx, params }) => ({ status: 200, body: inspectImage(ctx, image(ctx, params.name!)) }),
  },
  {
    method: 'GET',
    pattern: '/images/{name*}/history',
    handler({ ctx, params }) {
      const record = image(ctx, params.name!);
      const history = imageHistory(ctx, record.id);
      return {
        status: 200,
        body: history.map((h, i) => ({
          Id: h.id ?? '<missing>',
          Created: h.created ? Math.floor(Date.parse(h.created) / 1000) : 0,
          CreatedBy: h.createdBy,
          Tags: i === 0 ? record.names : null,
          Size: h.size,
          Comment: h.comment,
        })),
      };
    },
  },
  {
    method: 'GET',
    pattern: '/images/{name*}/get',
    async handler({ ctx, params, res }) {
      image(ctx, params.name!);
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await saveArchive(ctx, { refs: [params.name!], output: { stream: res } });
      res.end();
      return undefined;
    },
  },
  {
    method: 'POST',
    pattern: '/images/{name*}/tag',
    handler({ ctx, params, query }) {
      const repo = query.get('repo');
      if (!repo) throw invalidArgument('DEN1408', 'tag: no repo given', { hint: 'add repo=NAME' });
      tagImage(ctx, image(ctx, params.name!).id, withTag(repo, query.get('tag') || 'latest'));
      return { status: 201 };
    },
  },
  {
    method: 'POST',
    pattern: '/images/{name*}/push',
    async handler({ ctx, params, query, req, res }) {
      const destination = withTag(params.name!, query.get('tag'));
      image(ctx, destination);
      const send = progressStream(res);
      send({ status: `The push refers to repository [${params.name}]` });
      const pushed = await pushImage(ctx, {
        image: destination,
        ...registryAccess(req),
        onProgress: (e) => {
          if (e.kind !== 'blob') return;
          const status = {
            exists: 'Layer already exists',
            mounted: 'Mounted from another repository',
            pushed: 'Pushed',
            pushing: 'Pushing',
          }[e.status];
          send({ status, progressDetail: {}, id: short(e.id) });
        },
      });
      send({ status: `${query.get('tag') || 'latest'}: digest: ${pushed.digest} size: ${pushed.size}` });
      send({
        progressDetail: {},
        aux: { Tag: query.get('tag') || 'latest', Digest: pushed.digest, Size: pushed.size },
      });
      res.end();
      return undefined;
    },
  },
  {
    method: 'DELETE',
    pattern: '/images/{name*}',
    handler({ ctx, params, query }) {
      image(ctx, params.name!);
      const removed = removeImage(ctx, params.name!, queryBool(query, 'force'));
      return {
        status: 200,
        body: [...removed.untagged.map((u) => ({ Untagged: u })), ...removed.deleted.map((d) => ({ Deleted: d }))],
      };
    },
  },
];
