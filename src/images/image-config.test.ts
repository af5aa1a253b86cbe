import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DenError } from '../common/errors.js';
import { parseImageConfig, serializeImageConfig } from './image-config.js';

const D = (c: string) => `sha256:${c.repeat(64)}`;

/** A minimal valid config, with `changes` merged over it (undefined deletes a key). */
function config(changes: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = {
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: [D('a'), D('b')] },
  };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete c[k];
    else c[k] = v;
  }
  return c;
}

test('image configs den accepts', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['minimal', config()],
    ['no layers', config({ rootfs: { type: 'layers', diff_ids: [] } })],
    [
      'a full docker config',
      config({
        created: '2024-05-01T10:00:00Z',
        author: 'me',
        config: { Env: ['PATH=/bin'], Cmd: ['sh'], Entrypoint: null, Labels: { a: 'b' } },
        history: [{ created_by: 'x' }, { empty_layer: true }],
        container_config: { Hostname: 'x' },
      }),
    ],
    ['config null (docker writes it for scratch images)', config({ config: null })],
    ['an unknown architecture is not den to judge', config({ architecture: 'riscv64', variant: 'rva22' })],
  ];
  for (const [label, doc] of cases) {
    const parsed = parseImageConfig(Buffer.from(JSON.stringify(doc)), 'config x');
    assert.deepEqual(parsed, doc, label);
  }
});

test('image configs den refuses, each with the reason (DEN0913)', () => {
  const cases: [string, string | Record<string, unknown>, RegExp][] = [
    ['not JSON', '{"architecture":', /not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['no architecture', config({ architecture: undefined }), /architecture and os/],
    ['os not a string', config({ os: 1 }), /architecture and os/],
    ['no rootfs', config({ rootfs: undefined }), /rootfs: expected type "layers"/],
    ['rootfs of another type', config({ rootfs: { type: 'tar', diff_ids: [] } }), /rootfs: expected type/],
    ['diff_ids missing', config({ rootfs: { type: 'layers' } }), /rootfs\.diff_ids/],
    ['diff_ids not digests', config({ rootfs: { type: 'layers', diff_ids: ['abc'] } }), /rootfs\.diff_ids/],
    [
      'a diff id of another algorithm',
      config({ rootfs: { type: 'layers', diff_ids: [`sha512:${'a'.repeat(128)}`] } }),
      /rootfs\.diff_ids/,
    ],
    ['a diff id in upper case', config({ rootfs: { type: 'layers', diff_ids: [D('A')] } }), /rootfs\.diff_ids/],
    ['a diff id not a string', config({ rootfs: { type: 'layers', diff_ids: [1] } }), /rootfs\.diff_ids/],
    ['config an array', config({ config: [] }), /config: expected an object/],
    ['config a string', config({ config: 'x' }), /config: expected an object/],
    ['history an object', config({ history: {} }), /history: expected an array of objects/],
    ['history of strings', config({ history: ['x'] }), /history: expected an array of objects/],
    ['history with null', config({ history: [null] }), /history: expected an array of objects/],
    ['created a number', config({ created: 1 }), /created: expected a string/],
  ];
  for (const [label, doc, why] of cases) {
    const bytes = Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));
    assert.throws(
      () => parseImageConfig(bytes, 'config sha256:12ab'),
      (e: unknown) =>
        e instanceof DenError &&
        e.code === 'DEN0913' &&
        e.kind === 'InvalidArgument' &&
        e.message.startsWith('config sha256:12ab: malformed image config: ') &&
        why.test(e.message),
      label,
    );
  }
});

test("serializeImageConfig: Go's bytes for the OCI structs, which a conversion writes again unchanged", () => {
  const bytes = serializeImageConfig({
    history: [
      { comment: 'c', created_by: 'sh -c echo a > b && c < d', created: '2026-01-01T00:00:00Z' },
      { created: '2026-01-02T00:00:00Z', empty_layer: true, author: '' },
    ],
    rootfs: { diff_ids: [D('a')], type: 'layers' },
    config: { Cmd: ['x'], Env: ['A=\b\f\\b\u2028'], User: '', Labels: {}, Healthcheck: { Test: ['NONE'] } },
    os: 'linux',
    author: 'me <m@example.com>',
    architecture: 'amd64',
    created: '2026-01-02T00:00:00Z',
    container_config: { Cmd: ['kept, after the known fields'] },
  });
  assert.equal(
    bytes.toString(),
    '{"created":"2026-01-02T00:00:00Z","author":"me \\u003cm@example.com\\u003e","architecture":"amd64","os":"linux",' +
      '"config":{"Env":["A=\\u0008\\u000c\\\\b\\u2028"],"Cmd":["x"],"Healthcheck":{"Test":["NONE"]}},' +
      `"rootfs":{"type":"layers","diff_ids":["${D('a')}"]},` +
      '"history":[{"created":"2026-01-01T00:00:00Z","created_by":"sh -c echo a \\u003e b \\u0026\\u0026 c \\u003c d","comment":"c"},' +
      '{"created":"2026-01-02T00:00:00Z","empty_layer":true}],' +
      '"container_config":{"Cmd":["kept, after the known fields"]}}',
  );
  assert.deepEqual(JSON.parse(bytes.toString()).config.Env, ['A=\b\f\\b\u2028'], 'the same values');
  assert.equal(
    serializeImageConfig({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }).toString(),
    '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}',
  );
});
