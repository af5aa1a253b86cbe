export { openDatabase, writeTransaction, type Db } from './database.js';
export { diskFull, notWritable, spaceNeeded, storageFailure, type SpaceNeeded } from './storage-errors.js';
