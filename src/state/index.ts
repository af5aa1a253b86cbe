export { openDatabase, writeTransaction, type Db } from './database.js';
export { diskFull, notWritable, storageFailure } from './storage-errors.js';
