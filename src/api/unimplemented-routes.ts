/**
 * Endpoints den does not serve yet, answered in one place with docker's JSON error and 501, so
 * that a client says why instead of "page not found". Volumes arrive with den's volumes (issue
 * 13): replace the catch-all below with their routes.
 */
import { notImplemented } from './api-errors.js';
import type { Route } from './router.js';

const volumes: Route['handler'] = () => {
  throw notImplemented('DEN1405', 'volumes are not served over the API yet', {
    hint: 'use bind mounts (HostConfig.Binds) meanwhile',
  });
};

export const unimplementedRoutes: Route[] = [
  ...['GET', 'POST', 'DELETE'].flatMap((method) => [
    { method, pattern: '/volumes', handler: volumes },
    { method, pattern: '/volumes/{rest*}', handler: volumes },
  ]),
  {
    method: 'POST',
    pattern: '/build',
    handler: () => {
      throw notImplemented('DEN1405', 'den does not build images yet', {
        hint: 'build elsewhere and push, or den import a root file system',
      });
    },
  },
];
