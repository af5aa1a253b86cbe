/**
 * Endpoints den does not serve yet, answered in one place with docker's JSON error and 501, so
 * that a client says why instead of "page not found".
 */
import { notImplemented } from './api-errors.js';
import type { Route } from './router.js';

export const unimplementedRoutes: Route[] = [
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
