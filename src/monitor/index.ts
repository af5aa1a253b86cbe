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
export { HEALTH_LOOP_DONE, startHealthLoop, stopHealthLoop } from './health-loop.js';
export {
  AttachSocket,
  MAX_INPUT_PACKET,
  resizeMonitoredTerminal,
  type AttachPacket,
  type AttachStream,
} from './attach-socket.js';
