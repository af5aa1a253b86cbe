import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mountOf, parseMountinfo } from './mountinfo.js';

describe('parseMountinfo', () => {
  test('reads mount point and type, and undoes the kernel escapes', () => {
    const text = [
      '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
      '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 - cgroup2 cgroup2 rw',
      '50 23 8:1 / /mnt/with\\040space rw - ext4 /dev/sda1 rw',
      'garbage',
    ].join('\n');
    assert.deepEqual(
      parseMountinfo(text).map((m) => [m.mountPoint, m.fsType]),
      [
        ['/sys/fs/cgroup', 'tmpfs'],
        ['/sys/fs/cgroup/unified', 'cgroup2'],
        ['/mnt/with space', 'ext4'],
      ],
    );
  });
});

describe('mountOf', () => {
  const mounts = parseMountinfo(
    [
      '1 0 8:1 / / rw - ext4 /dev/sda1 rw',
      '2 1 0:30 / /data rw - xfs /dev/sdb1 rw',
      '3 2 0:31 / /data rw - tmpfs tmpfs rw',
      '4 1 0:32 / /data/sub rw - btrfs /dev/sdc1 rw',
    ].join('\n'),
  );
  const cases: [path: string, fsType: string][] = [
    ['/data/sub/file', 'btrfs'],
    // The last mount on a mount point hides the ones under it.
    ['/data/file', 'tmpfs'],
    ['/data', 'tmpfs'],
    // A mount point is a whole path component: /data2 is not under /data.
    ['/data2/file', 'ext4'],
    ['/', 'ext4'],
  ];
  for (const [path, fsType] of cases) {
    test(`${path} is on ${fsType}`, () => assert.equal(mountOf(mounts, path)?.fsType, fsType));
  }
});
