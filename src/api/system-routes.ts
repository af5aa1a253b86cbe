/** _ping, version, info and events: what every client asks first, and the event stream. */
import { dockerInfo, dockerServerVersion, followEvents, parseLogTime, systemInfo } from '../engine/index.js';
import { formatEventJson, parseEventFilters } from '../events/index.js';
import { queryFilters, type Route } from './router.js';

export function systemRoutes(denVersion: string): Route[] {
  const ping: Route['handler'] = ({ res }) => {
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    return { status: 200, body: 'OK' };
  };
  return [
    { method: 'GET', pattern: '/_ping', handler: ping },
    { method: 'HEAD', pattern: '/_ping', handler: ping },
    {
      method: 'GET',
      pattern: '/version',
      handler: ({ ctx }) => ({ status: 200, body: dockerServerVersion(ctx, denVersion) }),
    },
    {
      method: 'GET',
      pattern: '/info',
      handler: ({ ctx }) => ({ status: 200, body: dockerInfo(systemInfo(ctx), denVersion) }),
    },
    {
      method: 'GET',
      pattern: '/events',
      // One JSON object a line, as they happen, until `until` or until the client goes away.
      async handler({ ctx, query, res, signal }) {
        const filters = parseEventFilters(queryFilters(query));
        const sinceText = query.get('since');
        const untilText = query.get('until');
        const since = sinceText ? parseLogTime(sinceText, 'since') : undefined;
        const until = untilText ? parseLogTime(untilText, 'until') : undefined;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        await followEvents(ctx, {
          ...(since !== undefined ? { since } : {}),
          ...(until !== undefined ? { until } : {}),
          filters,
          signal,
          onEvent: (e) => res.write(`${formatEventJson(e)}\n`),
        });
        res.end();
        return undefined;
      },
    },
  ];
}
