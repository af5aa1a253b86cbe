export { openDatabase, writeTransaction, type Db } from './database.js';
