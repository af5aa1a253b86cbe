export {
  formatEventJson,
  formatEventLine,
  newEvent,
  nowNano,
  parseEventJson,
  type DenEvent,
  type EventType,
} from './event.js';
export { matchesEvent, parseEventFilters, type EventFilters } from './event-filter.js';
export { DISCARD_EVENTS, EventJournal, JOURNAL_MAX_BYTES, type EventSink } from './event-journal.js';
