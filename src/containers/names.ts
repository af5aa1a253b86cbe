import { randomBytes, randomInt } from 'node:crypto';
import { invalidArgument } from '../common/errors.js';

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function validateName(name: string): string {
  const bare = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME.test(bare) || bare.length > 253) {
    throw invalidArgument('DEN0601', `invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return bare;
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

const ADJECTIVES = [
  'brave',
  'calm',
  'clever',
  'eager',
  'fond',
  'gentle',
  'happy',
  'jolly',
  'keen',
  'kind',
  'lucid',
  'merry',
  'nifty',
  'proud',
  'quiet',
  'sharp',
  'stoic',
  'sweet',
  'tender',
  'vivid',
];
const NOUNS = [
  'badger',
  'beaver',
  'bison',
  'fox',
  'hare',
  'heron',
  'lynx',
  'marten',
  'mole',
  'otter',
  'owl',
  'puffin',
  'raven',
  'seal',
  'stoat',
  'swift',
  'vole',
  'wolf',
  'wren',
  'yak',
];

/** A readable random name, as docker gives (a den is where such animals live). */
export function randomName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${NOUNS[randomInt(NOUNS.length)]}_${randomInt(1000)}`;
}
