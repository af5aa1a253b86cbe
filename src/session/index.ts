export {
  HostNamespaces,
  RootlessSession,
  processStartTime,
  readLiveSession,
  type Namespaces,
  type SessionMaps,
} from './session.js';
export { withUnmappedUserns } from './userns-process.js';
export { checkSessionMaps, checkSetuidHelper, checkUserNamespaces } from './session-checks.js';
export { orphanCheck, runWorker, serveWorker, type WorkerProgram } from './worker.js';
