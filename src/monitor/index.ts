export { conmonArgv, startConmon, type ConmonStart, type StartedMonitor } from './conmon.js';
export {
  formatTimestamp,
  LogReader,
  parseLogRecord,
  parseTimestamp,
  type LogLine,
  type LogRecord,
} from './container-log.js';
export { checkConmon } from './monitor-checks.js';
