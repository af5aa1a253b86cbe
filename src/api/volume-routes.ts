/** /volumes: docker's volumes, answered by den's (docs/volumes.md). */
import { invalidArgument, isDenError } from '../common/errors.js';
import {
  createVolume,
  inspectVolume,
  listVolumes,
  parseVolumeFilters,
  pruneVolumes,
  removeVolume,
} from '../engine/index.js';
import { queryBool, queryFilters, readJson, stringMap, type Route } from './router.js';

export const volumeRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/volumes',
    handler({ ctx, query }) {
      const filters = parseVolumeFilters(queryFilters(query), ['name', 'driver', 'label', 'dangling']);
      return { status: 200, body: { Volumes: listVolumes(ctx, filters), Warnings: [] } };
    },
  },
  {
    method: 'POST',
    pattern: '/volumes/create',
    async handler({ ctx, req }) {
      const body = await readJson(req);
      if (body.Name !== undefined && typeof body.Name !== 'string')
        throw invalidArgument('DEN1404', 'Name: expected a string');
      const name = typeof body.Name === 'string' && body.Name !== '' ? body.Name : undefined;
      const driver = typeof body.Driver === 'string' && body.Driver !== '' ? body.Driver : undefined;
      const volume = createVolume(ctx, {
        ...(name !== undefined ? { name } : {}),
        ...(driver !== undefined ? { driver } : {}),
        labels: stringMap(body.Labels, 'Labels'),
        options: stringMap(body.DriverOpts, 'DriverOpts'),
      });
      return { status: 201, body: volume };
    },
  },
  {
    method: 'POST',
    pattern: '/volumes/prune',
    handler({ ctx, query }) {
      // API 1.41 (docker 20.10) prunes every unused volume; the `all` filter of 1.42+ is taken too.
      const texts = queryFilters(query);
      const all = texts.find((t) => t.startsWith('all='));
      const filters = parseVolumeFilters(
        texts.filter((t) => !t.startsWith('all=')),
        ['label', 'name'],
      );
      const removed = pruneVolumes(ctx, filters, all === undefined || /^all=(1|true)$/.test(all));
      return { status: 200, body: { VolumesDeleted: removed, SpaceReclaimed: 0 } };
    },
  },
  {
    method: 'GET',
    pattern: '/volumes/{name}',
    handler: ({ ctx, params }) => ({ status: 200, body: inspectVolume(ctx, params.name!) }),
  },
  {
    method: 'DELETE',
    pattern: '/volumes/{name}',
    handler({ ctx, params, query }) {
      try {
        removeVolume(ctx, params.name!);
      } catch (e) {
        if (!(queryBool(query, 'force') && isDenError(e) && e.kind === 'NotFound')) throw e;
      }
      return { status: 204 };
    },
  },
];
