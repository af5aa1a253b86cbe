/** /networks: docker's user-defined networks, answered by den's (docs/user-networks.md). */
import { invalidArgument } from '../common/errors.js';
import {
  createNetwork,
  inspectNetwork,
  listNetworks,
  networkConnect,
  networkDisconnect,
  parseNetworkFilters,
  parseLogTime,
  pruneNetworks,
  removeNetwork,
} from '../engine/index.js';
import { queryFilters, readJson, stringMap, type Route } from './router.js';

type Json = Record<string, unknown>;

const untilTime = (text: string) => Number(parseLogTime(text, 'until') / 1_000_000n);

export const networkRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/networks',
    handler({ ctx, query }) {
      const filters = parseNetworkFilters(queryFilters(query), ['name', 'id', 'driver', 'type', 'label', 'dangling']);
      return { status: 200, body: listNetworks(ctx, filters).map((n) => inspectNetwork(ctx, n.id)) };
    },
  },
  {
    method: 'POST',
    pattern: '/networks/create',
    async handler({ ctx, req }) {
      const body = await readJson(req);
      if (typeof body.Name !== 'string') throw invalidArgument('DEN1404', 'Name: no network name given');
      if (body.EnableIPv6 === true) throw invalidArgument('DEN1404', 'EnableIPv6: den networks are IPv4 only');
      const ipam = (body.IPAM ?? {}) as Json;
      const configs = Array.isArray(ipam.Config) ? (ipam.Config as Json[]) : [];
      if (configs.length > 1) throw invalidArgument('DEN1404', 'IPAM.Config: den takes one subnet per network');
      const subnet = typeof configs[0]?.Subnet === 'string' ? configs[0].Subnet : undefined;
      const gateway = typeof configs[0]?.Gateway === 'string' ? configs[0].Gateway : undefined;
      const network = createNetwork(ctx, {
        name: body.Name,
        driver: typeof body.Driver === 'string' && body.Driver !== '' ? body.Driver : 'bridge',
        ...(subnet ? { subnet } : {}),
        ...(gateway ? { gateway } : {}),
        internal: body.Internal === true,
        labels: stringMap(body.Labels, 'Labels'),
        options: stringMap(body.Options, 'Options'),
      });
      return { status: 201, body: { Id: network.id, Warning: '' } };
    },
  },
  {
    method: 'POST',
    pattern: '/networks/prune',
    handler({ ctx, query }) {
      const filters = parseNetworkFilters(queryFilters(query), ['label', 'until'], untilTime);
      return { status: 200, body: { NetworksDeleted: pruneNetworks(ctx, filters) } };
    },
  },
  {
    method: 'GET',
    pattern: '/networks/{id}',
    handler: ({ ctx, params }) => ({ status: 200, body: inspectNetwork(ctx, params.id!) }),
  },
  {
    method: 'DELETE',
    pattern: '/networks/{id}',
    handler({ ctx, params }) {
      removeNetwork(ctx, params.id!);
      return { status: 204 };
    },
  },
  {
    method: 'POST',
    pattern: '/networks/{id}/connect',
    async handler({ ctx, params, req }) {
      const body = await readJson(req);
      if (typeof body.Container !== 'string') throw invalidArgument('DEN1404', 'Container: no container given');
      const endpoint = (body.EndpointConfig ?? {}) as Json;
      const aliases = Array.isArray(endpoint.Aliases)
        ? endpoint.Aliases.filter((a): a is string => typeof a === 'string')
        : [];
      const ipam = (endpoint.IPAMConfig ?? {}) as Json;
      const ip = typeof ipam.IPv4Address === 'string' && ipam.IPv4Address !== '' ? ipam.IPv4Address : undefined;
      networkConnect(ctx, params.id!, body.Container, { aliases, ...(ip ? { ip } : {}) });
      return { status: 200 };
    },
  },
  {
    method: 'POST',
    pattern: '/networks/{id}/disconnect',
    async handler({ ctx, params, req }) {
      const body = await readJson(req);
      if (typeof body.Container !== 'string') throw invalidArgument('DEN1404', 'Container: no container given');
      networkDisconnect(ctx, params.id!, body.Container);
      return { status: 200 };
    },
  },
];
