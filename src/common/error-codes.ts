import type { ErrorKind } from './errors.js';

/**
 * Every error code den uses, with its kind and what it means: the one registry. DenError takes
 * only codes listed here (a typo or an unlisted code does not compile), docs/errors.md is this
 * table for people (error-codes.test.ts keeps the two in step, and checks that each code is thrown
 * with its kind), and a code is never reused: a retired one stays, marked so.
 *
 * Codes are for people and documentation; code that decides on a failure branches on its `reason`.
 */
export const ERROR_CODES = {
  DEN0101: { kind: 'FailedPrecondition', meaning: 'the runtime directory cannot be created' },
  DEN0102: {
    kind: 'FailedPrecondition',
    meaning: 'the runtime directory is not a private directory owned by the caller',
  },
  DEN0105: {
    kind: 'InvalidArgument',
    meaning: 'a numeric DEN_* variable (auto range bounds, garbage collection grace) is not a whole number',
  },
  DEN0106: { kind: 'InvalidArgument', meaning: '`DEN_CGROUP_PARENT` is not an absolute cgroup path' },
  DEN0201: { kind: 'InvalidArgument', meaning: 'a malformed line in /etc/subuid or /etc/subgid (names file:line)' },
  DEN0202: { kind: 'InvalidArgument', meaning: 'two ranges of one owner overlap in /etc/subuid or /etc/subgid' },
  DEN0203: { kind: 'FailedPrecondition', meaning: '/etc/subuid or /etc/subgid exists but cannot be read' },
  DEN0204: { kind: 'InvalidArgument', meaning: 'an id map is empty' },
  DEN0205: { kind: 'InvalidArgument', meaning: "an id map has more than 340 extents (the kernel's limit)" },
  DEN0206: { kind: 'InvalidArgument', meaning: 'an id map extent has a size below 1' },
  DEN0207: { kind: 'InvalidArgument', meaning: 'an id map extent leaves 32 bits or reaches 4294967295' },
  DEN0208: { kind: 'InvalidArgument', meaning: 'two extents overlap on the container side' },
  DEN0209: { kind: 'InvalidArgument', meaning: 'two extents overlap on the host side' },
  DEN0210: { kind: 'InvalidArgument', meaning: 'a malformed `--uidmap`/`--gidmap` value' },
  DEN0211: { kind: 'InvalidArgument', meaning: 'an id range of a non-positive size was asked for' },
  DEN0212: { kind: 'InvalidArgument', meaning: 'a number that is not a valid id' },
  DEN0301: { kind: 'InvalidArgument', meaning: 'a layer entry escapes the layer root by `..`' },
  DEN0302: { kind: 'InvalidArgument', meaning: 'a layer entry has an absolute name' },
  DEN0303: {
    kind: 'InvalidArgument',
    meaning:
      "a layer entry's name is empty or has NUL, a non-directory is named `./`, or a symlink has an empty target",
  },
  DEN0304: { kind: 'InvalidArgument', meaning: "a layer entry's path passes through a symlink that leaves the root" },
  DEN0305: { kind: 'InvalidArgument', meaning: "a hardlink's target escapes the layer root" },
  DEN0306: { kind: 'InvalidArgument', meaning: "a hardlink's target does not exist, is a directory, or is the root" },
  DEN0307: { kind: 'InvalidArgument', meaning: "a whiteout's target escapes the layer root or is not a name" },
  DEN0308: { kind: 'InvalidArgument', meaning: 'a layer has more entries than the limit' },
  DEN0309: { kind: 'InvalidArgument', meaning: "a layer's content exceeds the total size limit" },
  DEN0310: { kind: 'InvalidArgument', meaning: 'one file in a layer exceeds the size limit' },
  DEN0311: {
    kind: 'InvalidArgument',
    meaning: 'the layer archive is truncated or corrupt (bad checksum, bad number, malformed PAX)',
  },
  DEN0312: {
    kind: 'FailedPrecondition',
    meaning: "a layer entry's owner is not mapped in the session (subuid range too small)",
  },
  DEN0313: { kind: 'InvalidArgument', meaning: "a layer entry's parent is not a directory" },
  DEN0314: { kind: 'InvalidArgument', meaning: "too many levels of symbolic links in a layer entry's path" },
  DEN0315: { kind: 'InvalidArgument', meaning: 'an unsupported tar entry: unknown type flags or PAX sparse versions' },
  DEN0316: { kind: 'AlreadyExists', meaning: 'the unpack destination already exists' },
  DEN0317: { kind: 'Internal', meaning: 'a layer entry cannot be written (ENOSPC and the like)' },
  DEN0318: { kind: 'InvalidArgument', meaning: "a layer entry's owner id is out of range (4294967295)" },
  DEN0319: { kind: 'Internal', meaning: 'an extended attribute cannot be set for a reason other than permission' },
  DEN0320: { kind: 'Internal', meaning: 'the unpack destination cannot be created' },
  DEN0321: { kind: 'Internal', meaning: 'unpacking failed unexpectedly' },
  DEN0401: { kind: 'InvalidArgument', meaning: 'a malformed digest' },
  DEN0402: { kind: 'NotFound', meaning: 'a blob is missing from the content store' },
  DEN0403: { kind: 'InvalidArgument', meaning: 'a stored blob no longer matches its digest' },
  DEN0404: { kind: 'InvalidArgument', meaning: "a blob's size differs from the expected size" },
  DEN0405: { kind: 'InvalidArgument', meaning: "a blob's content does not match the expected digest" },
  DEN0410: { kind: 'InvalidArgument', meaning: 'a malformed image reference' },
  DEN0420: { kind: 'NotFound', meaning: 'no such image' },
  DEN0421: { kind: 'Conflict', meaning: 'an image id prefix matches several images' },
  DEN0430: { kind: 'NotFound', meaning: '`den import`: no such file' },
  DEN0431: { kind: 'InvalidArgument', meaning: '`den import`: the source is a directory' },
  DEN0432: { kind: 'InvalidArgument', meaning: '`den import`: the archive cannot be read (corrupt compression)' },
  DEN0433: { kind: 'Internal', meaning: 'the layer unpacker in the session exited without an answer' },
  DEN0434: { kind: 'InvalidArgument', meaning: 'a malformed or unsupported `--change` instruction' },
  DEN0435: { kind: 'InvalidArgument', meaning: '`den import`: the archive is empty' },
  DEN0436: {
    kind: 'InvalidArgument',
    meaning: "a layer's uncompressed content does not hash to the diff id its image config names",
  },
  DEN0440: { kind: 'Conflict', meaning: '`den rmi` by id of an image with several names, without -f' },
  DEN0441: { kind: 'Conflict', meaning: '`den rmi` of an image a container uses' },
  DEN0450: {
    kind: 'InvalidArgument',
    meaning: '`den pull`: the manifest and the config list different numbers of layers',
  },
  DEN0451: { kind: 'InvalidArgument', meaning: '`den pull`: an image config larger than 8 MiB' },
  DEN0452: {
    kind: 'InvalidArgument',
    meaning: 'retired: a malformed image config is DEN0913, for `den pull` and `den load` alike',
  },
  DEN0453: { kind: 'NotFound', meaning: '`den push`: no such image' },
  DEN0454: { kind: 'NotFound', meaning: '`den push`: a blob of the image is missing from the content store' },
  DEN0455: { kind: 'NotFound', meaning: '`den push` by id of an image without a name, and no destination' },
  DEN0456: { kind: 'Internal', meaning: '`den push`: the stored manifest is an index' },
  DEN0501: {
    kind: 'FailedPrecondition',
    meaning: "the rootless session cannot be created (newuidmap's or unshare's words follow)",
  },
  DEN0502: { kind: 'FailedPrecondition', meaning: 'the rootless session died as soon as it was created' },
  DEN0503: { kind: 'FailedPrecondition', meaning: 'the caller has no subordinate uid or gid range' },
  DEN0504: { kind: 'Internal', meaning: 'den cannot find its own entry script to start a worker in the session' },
  DEN0505: {
    kind: 'Internal',
    meaning: "den's file worker (cp, diff, commit) failed unexpectedly or exited without an answer",
  },
  DEN0601: { kind: 'InvalidArgument', meaning: 'an invalid container name' },
  DEN0602: { kind: 'Conflict', meaning: 'a container name already in use' },
  DEN0603: { kind: 'NotFound', meaning: 'no such container' },
  DEN0604: { kind: 'Conflict', meaning: 'a container id prefix matches several containers' },
  DEN0605: { kind: 'Conflict', meaning: 'another den removed the container while this one acted on it' },
  DEN0606: { kind: 'Conflict', meaning: "the container's status does not allow the event (start a running one, ...)" },
  DEN0610: { kind: 'NotFound', meaning: "`-u`: no such user in the image's /etc/passwd (exit 126)" },
  DEN0611: { kind: 'NotFound', meaning: "`-u`: no such group in the image's /etc/group (exit 126)" },
  DEN0612: { kind: 'InvalidArgument', meaning: '`-u`: an id out of range' },
  DEN0620: { kind: 'InvalidArgument', meaning: '`-w`: not an absolute path' },
  DEN0621: { kind: 'InvalidArgument', meaning: '`--hostname`: not a valid host name' },
  DEN0622: { kind: 'NotFound', meaning: '`den run`/`create`: the image is not in the store' },
  DEN0623: { kind: 'InvalidArgument', meaning: 'no command given and the image has none' },
  DEN0624: { kind: 'InvalidArgument', meaning: 'an environment variable with an empty name' },
  DEN0625: { kind: 'NotFound', meaning: 'an `--env-file` cannot be read' },
  DEN0626: { kind: 'FailedPrecondition', meaning: 'retired: network modes are parsed by networking, DEN1201' },
  DEN0627: { kind: 'InvalidArgument', meaning: 'retired: an unknown network is DEN1222' },
  DEN0628: { kind: 'InvalidArgument', meaning: 'a malformed `-v` value' },
  DEN0629: { kind: 'FailedPrecondition', meaning: 'retired: named volumes are supported (den volume)' },
  DEN0630: { kind: 'InvalidArgument', meaning: '`-v` with a relative container path' },
  DEN0631: { kind: 'InvalidArgument', meaning: '`-v` with an unknown option' },
  DEN0632: { kind: 'NotFound', meaning: '`-v` with a host path that does not exist' },
  DEN0633: { kind: 'InvalidArgument', meaning: "`-v` over the container's /" },
  DEN0634: { kind: 'FailedPrecondition', meaning: "an image's layer is missing from the store (damaged store)" },
  DEN0640: { kind: 'FailedPrecondition', meaning: 'the OCI runtime is not in PATH' },
  DEN0641: { kind: 'FailedPrecondition', meaning: '--runtime names a program that is neither crun nor runc' },
  DEN0650: {
    kind: 'FailedPrecondition',
    meaning: 'the OCI runtime failed before the command ran (exit 127 not found, 126 cannot run, else 125)',
  },
  DEN0651: { kind: 'FailedPrecondition', meaning: "the container's overlay cannot be mounted" },
  DEN0652: { kind: 'InvalidArgument', meaning: '`-it` with stdin that is not a terminal (exit 1, as docker)' },
  DEN0653: {
    kind: 'FailedPrecondition',
    meaning: "`-t`: the socket the runtime sends the container's terminal to cannot be made (DEN_RUNTIME_DIR too long)",
  },
  DEN0660: { kind: 'Conflict', meaning: '`den rm` of a running container without -f' },
  DEN0661: {
    kind: 'FailedPrecondition',
    meaning: "`den export`: mounting or archiving the container's file system failed",
  },
  DEN0662: { kind: 'Unavailable', meaning: '`den export`: the output cannot be written' },
  DEN0663: { kind: 'InvalidArgument', meaning: '`den export` to a terminal without -o' },
  DEN0664: {
    kind: 'NotFound',
    meaning: "`den cp`: the path does not exist in the container (docker's `Could not find the file`)",
  },
  DEN0665: {
    kind: 'InvalidArgument',
    meaning: '`den cp`: no container path, two of them, or an empty source or destination',
  },
  DEN0666: {
    kind: 'InvalidArgument',
    meaning: "`den cp`: source and destination break docker's rules (a directory onto a file, `/` on a missing one)",
  },
  DEN0667: {
    kind: 'FailedPrecondition',
    meaning: '`den cp`: into a read-only root file system, or through a bind mount',
  },
  DEN0668: { kind: 'NotFound', meaning: '`den cp`: the local path (or its directory) does not exist' },
  DEN0669: {
    kind: 'Unavailable',
    meaning: '`den cp`: the local path or standard input/output cannot be read or written',
  },
  DEN0670: { kind: 'InvalidArgument', meaning: '`--userns` together with `--uidmap`/`--gidmap`' },
  DEN0671: { kind: 'InvalidArgument', meaning: '`--gidmap` without `--uidmap`' },
  DEN0672: { kind: 'InvalidArgument', meaning: 'a malformed `--userns=auto:...` value' },
  DEN0673: { kind: 'FailedPrecondition', meaning: 'a `--userns` mode den does not support yet (nomap)' },
  DEN0674: { kind: 'InvalidArgument', meaning: 'an unknown `--userns` mode' },
  DEN0675: {
    kind: 'FailedPrecondition',
    meaning: 'retired: without fuse-overlayfs, rootless mappings are shifted by copying (see DEN0686)',
  },
  DEN0676: {
    kind: 'FailedPrecondition',
    meaning: '`--userns=auto` as root without a `den` range in /etc/subuid and /etc/subgid',
  },
  DEN0677: {
    kind: 'FailedPrecondition',
    meaning: '`--userns=auto`: no free range of the size needed (the root pool, or rootless subordinate ids)',
  },
  DEN0678: { kind: 'InvalidArgument', meaning: '`--userns=auto:size=N` smaller than the ids the image uses' },
  DEN0679: { kind: 'InvalidArgument', meaning: 'a malformed `--userns=keep-id:...` value' },
  DEN0680: { kind: 'FailedPrecondition', meaning: 'unshare (util-linux) is not in PATH' },
  DEN0681: { kind: 'FailedPrecondition', meaning: "the image's layers cannot be idmapped (kernel or file system)" },
  DEN0682: { kind: 'InvalidArgument', meaning: '`--userns=keep-id` as root' },
  DEN0683: { kind: 'InvalidArgument', meaning: '`keep-id:uid=` or `gid=` outside the ids the session maps' },
  DEN0684: {
    kind: 'InvalidArgument',
    meaning: "a rootless `--uidmap`/`--gidmap` that reaches beyond the session's ids",
  },
  DEN0685: {
    kind: 'FailedPrecondition',
    meaning: "a directory above den's data directory does not let a container's own root pass (o+x)",
  },
  DEN0686: { kind: 'FailedPrecondition', meaning: '`DEN_SHIFT=fuse` where fuse-overlayfs or /dev/fuse cannot be used' },
  DEN0687: { kind: 'InvalidArgument', meaning: '`DEN_SHIFT` other than auto, copy, fuse or helper' },
  DEN0688: {
    kind: 'Unavailable',
    meaning: 'a layer could not be copied with shifted owners (disk full, damaged layer)',
  },
  DEN0690: {
    kind: 'InvalidArgument',
    meaning: "a malformed `--memory*`, `--cpus`, `--cpu-shares`, `--pids-limit` or `--ulimit` value, in docker's words",
  },
  DEN0691: {
    kind: 'InvalidArgument',
    meaning: "limits docker's daemon refuses: memory under 6MB or under swap, `--cpus` past the CPUs, shares < 0",
  },
  DEN0692: { kind: 'InvalidArgument', meaning: '`--cpuset-cpus` malformed, or naming CPUs the container may not have' },
  DEN0693: {
    kind: 'FailedPrecondition',
    meaning: 'rootless limits without a delegated cgroup v2 with their controllers (the message says what is missing)',
  },
  DEN0694: { kind: 'FailedPrecondition', meaning: 'as root, a limit whose cgroup controller this host does not have' },
  DEN0695: {
    kind: 'FailedPrecondition',
    meaning: "`--ulimit` with a hard limit above den's own, which den may not raise (no CAP_SYS_RESOURCE)",
  },
  DEN0701: {
    kind: 'InvalidArgument',
    meaning: 'a command-line usage error (a flag: exit 125; the number of arguments: exit 1)',
  },
  DEN0702: { kind: 'NotFound', meaning: '`den inspect`: no such container or image' },
  DEN0703: { kind: 'InvalidArgument', meaning: '`--pull` other than always, missing or never' },
  DEN0704: { kind: 'InvalidArgument', meaning: '`den login`: --password and --password-stdin together' },
  DEN0705: { kind: 'InvalidArgument', meaning: '`den login --password-stdin` without --username' },
  DEN0706: { kind: 'InvalidArgument', meaning: '`den login`: an empty username or password' },
  DEN0707: { kind: 'InvalidArgument', meaning: '`den login`: no terminal to ask for the username or password' },
  DEN0708: { kind: 'InvalidArgument', meaning: '`den image prune` without -f and without a terminal to ask on' },
  DEN0801: { kind: 'Unavailable', meaning: 'the state database cannot be opened' },
  DEN0802: {
    kind: 'FailedPrecondition',
    meaning: "den cannot write in its data directory (read-only, another owner's)",
  },
  DEN0803: { kind: 'Unavailable', meaning: "the disk that holds den's data directory is full" },
  DEN0901: {
    kind: 'Unavailable',
    meaning: 'a registry cannot be reached (refused, reset, DNS, timeout) after the retries',
  },
  DEN0902: {
    kind: 'Unavailable',
    meaning: 'TLS with a registry failed (unknown CA, bad certificate): trust its CA or `--tls-verify=false`',
  },
  DEN0903: {
    kind: 'FailedPrecondition',
    meaning: 'a registry speaks plain HTTP and is not marked insecure in registries.json',
  },
  DEN0904: {
    kind: 'PermissionDenied',
    meaning: 'a registry answered 401: no or wrong credentials (`den login`), or the repository may not exist',
  },
  DEN0905: { kind: 'PermissionDenied', meaning: 'a registry answered 403: the account may not do this' },
  DEN0906: { kind: 'NotFound', meaning: 'manifest unknown: the tag or digest is not in the repository' },
  DEN0907: { kind: 'NotFound', meaning: 'the repository does not exist in the registry (name unknown)' },
  DEN0908: { kind: 'NotFound', meaning: 'a blob is not in the repository' },
  DEN0909: {
    kind: 'InvalidArgument',
    meaning: "a manifest or blob does not match its digest (also a registry refusing an upload's digest)",
  },
  DEN0910: { kind: 'InvalidArgument', meaning: "a blob's size differs from its descriptor (cut short or too long)" },
  DEN0911: { kind: 'InvalidArgument', meaning: "a registry's answer exceeds den's size limit (4 MiB for a manifest)" },
  DEN0912: {
    kind: 'InvalidArgument',
    meaning: 'an unsupported manifest, config or layer media type (schema 1, artifacts)',
  },
  DEN0913: { kind: 'InvalidArgument', meaning: 'a malformed image manifest, index or config' },
  DEN0914: { kind: 'NotFound', meaning: 'an index has no manifest for the platform (the hint lists those it has)' },
  DEN0915: { kind: 'InvalidArgument', meaning: 'a malformed platform (expected os/arch[/variant])' },
  DEN0916: {
    kind: 'Conflict',
    meaning: 'a short name exists in several search registries (`short-name-mode` enforcing)',
  },
  DEN0917: { kind: 'InvalidArgument', meaning: 'a malformed WWW-Authenticate header from a registry' },
  DEN0918: { kind: 'Unavailable', meaning: "a registry's token server failed or gave no token" },
  DEN0919: {
    kind: 'InvalidArgument',
    meaning: 'a credentials file (config.json, auth.json) is malformed or unreadable',
  },
  DEN0920: { kind: 'FailedPrecondition', meaning: 'a credentials file cannot be written' },
  DEN0921: { kind: 'InvalidArgument', meaning: 'a malformed `--creds` value' },
  DEN0922: { kind: 'InvalidArgument', meaning: 'a malformed or unreadable registries.json' },
  DEN0923: { kind: 'Unavailable', meaning: 'a registry answered 5xx or 429 until the retries ran out' },
  DEN0924: {
    kind: 'Unavailable',
    meaning: "a registry's answer breaks the protocol (bad redirect, upload without Location, bad range)",
  },
  DEN0925: {
    kind: 'InvalidArgument',
    meaning: 'a resumed download with an offset outside the blob or without the hash of its prefix',
  },
  DEN0926: { kind: 'InvalidArgument', meaning: 'a registry refused a request with another 4xx status' },
  DEN0927: { kind: 'InvalidArgument', meaning: 'a short name with no unqualified-search-registries configured' },
  DEN0928: {
    kind: 'FailedPrecondition',
    meaning: 'a credential helper (`credsStore`, `credHelpers`) is not in PATH or cannot be run',
  },
  DEN0929: {
    kind: 'Unavailable',
    meaning: 'a credential helper failed (non-zero exit, killed): its message, redacted',
  },
  DEN0930: {
    kind: 'InvalidArgument',
    meaning: "a credential helper answered something that is not the protocol's JSON (never quoted)",
  },
  DEN0931: {
    kind: 'Unavailable',
    meaning: 'a credential helper did not finish within 30 s and was killed (locked keyring, prompt)',
  },
  DEN0932: {
    kind: 'FailedPrecondition',
    meaning: 'a credential helper holds an OAuth identity token (`<token>`): den does not support them',
  },
  DEN0933: {
    kind: 'InvalidArgument',
    meaning: '`den login REGISTRY/NAMESPACE` where a credential helper applies (one login per registry)',
  },
  DEN0934: {
    kind: 'NotFound',
    meaning: 'the image pulled with --platform is for another platform (docker: does not match the specified platform)',
  },
  DEN0950: {
    kind: 'InvalidArgument',
    meaning: '`den load`: the input is not a tar archive (garbage, or an unsupported compression)',
  },
  DEN0951: {
    kind: 'InvalidArgument',
    meaning: '`den load`: the archive is truncated or corrupt after its first entry',
  },
  DEN0952: { kind: 'InvalidArgument', meaning: '`den load`: the archive (or standard input) is empty' },
  DEN0953: {
    kind: 'InvalidArgument',
    meaning: '`den load`: unknown format: neither manifest.json (docker-archive) nor index.json (oci-archive)',
  },
  DEN0954: {
    kind: 'InvalidArgument',
    meaning: '`den load`: a malformed manifest.json (not JSON, wrong types, a RepoTags entry not a reference)',
  },
  DEN0955: {
    kind: 'InvalidArgument',
    meaning: '`den load`: a file the manifest or index names (config, layer, blob) is missing from the archive',
  },
  DEN0956: {
    kind: 'InvalidArgument',
    meaning: '`den load`: an image config names another number of layers than the archive (malformed: DEN0913)',
  },
  DEN0957: {
    kind: 'InvalidArgument',
    meaning: '`den load`: a blob does not match the digest or size its name or descriptor gives',
  },
  DEN0958: {
    kind: 'InvalidArgument',
    meaning: "`den load`: a layer already in the store, but the archive's blob does not hash to the config's diff id",
  },
  DEN0959: {
    kind: 'InvalidArgument',
    meaning: '`den load`: an oci-archive whose oci-layout is missing or of an unsupported version',
  },
  DEN0960: { kind: 'NotFound', meaning: '`den load -i`: no such file' },
  DEN0961: { kind: 'InvalidArgument', meaning: '`den load -i`: a directory, not an archive' },
  DEN0962: { kind: 'InvalidArgument', meaning: '`den load` without `-i` and standard input is a terminal' },
  DEN0963: {
    kind: 'InvalidArgument',
    meaning: '`den load`: the archive exceeds a limit (entries, large files, size of a manifest or config)',
  },
  DEN0964: { kind: 'InvalidArgument', meaning: '`den load`: the archive names no images' },
  DEN0965: {
    kind: 'InvalidArgument',
    meaning: '`den save --format`: an unknown archive format (docker-archive, oci-archive)',
  },
  DEN0966: { kind: 'InvalidArgument', meaning: '`den save` without `-o` to a terminal' },
  DEN0967: { kind: 'NotFound', meaning: '`den save`: an image is not in the store' },
  DEN0968: {
    kind: 'FailedPrecondition',
    meaning: '`den save`: a blob of the image is missing from the content store (damaged store)',
  },
  DEN0969: {
    kind: 'FailedPrecondition',
    meaning: '`den save`: a blob in the content store no longer matches its digest (damaged store)',
  },
  DEN0970: {
    kind: 'InvalidArgument',
    meaning: '`den save -o`: the file cannot be written (a directory, no such directory, permission)',
  },
  DEN0971: { kind: 'InvalidArgument', meaning: '`den tag`: the target is a digest reference' },
  DEN0972: {
    kind: 'InvalidArgument',
    meaning: "`den tag`: the target's repository is 64 hexadecimal digits (it would read as an image id)",
  },
  DEN0973: {
    kind: 'Unavailable',
    meaning: '`den save`: standard output cannot be written (the reader closed the pipe)',
  },
  DEN0322: { kind: 'InvalidArgument', meaning: "a layer's gzip stream is truncated or corrupt" },
  DEN0323: {
    kind: 'InvalidArgument',
    meaning: "a layer's zstd stream is truncated or corrupt (zstd's own reason follows)",
  },
  DEN0324: {
    kind: 'FailedPrecondition',
    meaning: 'a zstd-compressed layer, and no `zstd` program to decompress it (install zstd)',
  },
  DEN0325: {
    kind: 'InvalidArgument',
    meaning: 'a layer compressed otherwise than gzip or zstd (xz, bzip2), or a media type naming one',
  },
  DEN0326: { kind: 'Internal', meaning: 'the `zstd` program cannot be run or its output cannot be read' },
  DEN0327: {
    kind: 'InvalidArgument',
    meaning: '`den cp`: the archive would replace a directory with a non-directory, or the other way round',
  },
  DEN0709: {
    kind: 'InvalidArgument',
    meaning: '`--format`: a template that does not parse (syntax, unknown function, undefined variable)',
  },
  DEN0710: {
    kind: 'InvalidArgument',
    meaning: '`--format`: a template that fails on the data (no such field, wrong arguments, bad index)',
  },
  DEN0425: {
    kind: 'InvalidArgument',
    meaning: '`den images --filter`: not KEY=VALUE, an unknown key, or a value the key does not take',
  },
  DEN0426: {
    kind: 'InvalidArgument',
    meaning: '`den images`: a malformed reference pattern (an unclosed [, a trailing backslash)',
  },
  DEN1101: { kind: 'InvalidArgument', meaning: 'a malformed `--restart` policy' },
  DEN1102: { kind: 'InvalidArgument', meaning: '`--restart` together with `--rm`' },
  DEN1103: { kind: 'InvalidArgument', meaning: 'an unknown signal (`--stop-signal`, `den stop -s`, `den kill -s`)' },
  DEN1104: { kind: 'InvalidArgument', meaning: 'a `--label` with an empty name' },
  DEN1105: { kind: 'InvalidArgument', meaning: 'an unknown `--log-driver`, or a `--log-opt` den does not take' },
  DEN1106: { kind: 'InvalidArgument', meaning: 'a malformed `--health-*` value, or `--no-healthcheck` with them' },
  DEN1107: { kind: 'FailedPrecondition', meaning: 'conmon, the monitor of detached containers, is not installed' },
  DEN1108: {
    kind: 'FailedPrecondition',
    meaning: "the monitor could not create or start the container (conmon's reason follows)",
  },
  DEN1109: { kind: 'Conflict', meaning: 'the verb needs a running container (kill, exec, attach, pause, top)' },
  DEN1110: { kind: 'FailedPrecondition', meaning: '`den logs` of a container whose log driver is none' },
  DEN1112: { kind: 'InvalidArgument', meaning: '`den logs`/`den events` `--since`/`--until`: not a time' },
  DEN1120: {
    kind: 'FailedPrecondition',
    meaning: '`den exec -d`: the OCI runtime failed and its log does not say why (its status follows)',
  },
  DEN1121: { kind: 'FailedPrecondition', meaning: "a running container's OCI config (config.json) cannot be read" },
  DEN1122: {
    kind: 'InvalidArgument',
    meaning: "`--detach-keys`: a key den does not know (docker's syntax: `ctrl-p,ctrl-q`, `a`, `ctrl-@`)",
  },
  DEN1123: {
    kind: 'FailedPrecondition',
    meaning: '`den attach` to a container that runs attached to the den that started it (no monitor)',
  },
  DEN1124: {
    kind: 'Unavailable',
    meaning: "`den attach`: the container's monitor cannot be reached, or ended the connection while it runs",
  },
  DEN1125: { kind: 'InvalidArgument', meaning: '`den top`: ps options whose output has no PID column' },
  DEN1126: { kind: 'FailedPrecondition', meaning: '`den top`: ps failed (its message follows)' },
  DEN1140: {
    kind: 'InvalidArgument',
    meaning: '`den ps --filter`: not KEY=VALUE, an unknown key, or a value the key does not take',
  },
  DEN1141: {
    kind: 'InvalidArgument',
    meaning: '`den events --filter`: not KEY=VALUE, or a key den events do not have',
  },
  DEN1142: {
    kind: 'FailedPrecondition',
    meaning: '`den pause`/`unpause`: the container has no cgroup freezer (rootless without a delegated cgroup v2)',
  },
  DEN1143: {
    kind: 'FailedPrecondition',
    meaning: 'the OCI runtime refused to pause or resume the container (its reason follows)',
  },
  DEN1144: { kind: 'InvalidArgument', meaning: '`den rename`: the new name is the name the container has' },
  DEN1145: {
    kind: 'InvalidArgument',
    meaning: '`den container prune --filter`: not KEY=VALUE, an unknown key, or an until that is not a time',
  },
  DEN1146: {
    kind: 'InvalidArgument',
    meaning: '`den container prune` asks for confirmation, and stdin is not a terminal (add -f)',
  },
  DEN1130: { kind: 'FailedPrecondition', meaning: '`den healthcheck run` of a container that has no health check' },
  DEN1131: { kind: 'Conflict', meaning: '`den healthcheck run` of a container that is not running (or is paused)' },
  DEN1132: {
    kind: 'FailedPrecondition',
    meaning: "a health check's test den cannot run: neither CMD nor CMD-SHELL, or no command",
  },
  DEN1133: { kind: 'InvalidArgument', meaning: '`den ps --filter health=`: not starting, healthy, unhealthy or none' },
  DEN1134: { kind: 'InvalidArgument', meaning: 'retired: `den ps --filter` errors are DEN1140' },
  DEN1135: { kind: 'Internal', meaning: 'the health-check scheduler (a `/bin/sh` loop) cannot be started' },
  DEN0107: {
    kind: 'Unavailable',
    meaning: 'a command writing the store stopped by a signal, cleaned up (exit 130 SIGINT, 143 SIGTERM, 129 SIGHUP)',
  },
  DEN0328: {
    kind: 'InvalidArgument',
    meaning: 'a layer unpacks to more than DEN_MAX_LAYER_RATIO times its compressed size (a decompression bomb)',
  },
  DEN1201: { kind: 'InvalidArgument', meaning: 'an invalid `--network` mode' },
  DEN1202: { kind: 'InvalidArgument', meaning: 'an unknown or invalid `slirp4netns:` option' },
  DEN1203: { kind: 'InvalidArgument', meaning: 'an invalid `-p` port specification' },
  DEN1204: { kind: 'InvalidArgument', meaning: 'an invalid `--expose` port' },
  DEN1205: {
    kind: 'FailedPrecondition',
    meaning: 'an SCTP port on a user-mode network (pasta and slirp4netns carry TCP and UDP only)',
  },
  DEN1206: { kind: 'FailedPrecondition', meaning: 'rootless: a host port below net.ipv4.ip_unprivileged_port_start' },
  DEN1207: { kind: 'FailedPrecondition', meaning: 'a host port to publish is in use' },
  DEN1208: { kind: 'FailedPrecondition', meaning: "a host address to publish on is not one of the host's" },
  DEN1209: { kind: 'NotFound', meaning: 'retired: an unknown network is DEN1222' },
  DEN1210: {
    kind: 'FailedPrecondition',
    meaning: 'the default network needs pasta or slirp4netns, and neither is in PATH',
  },
  DEN1211: { kind: 'InvalidArgument', meaning: 'ports published with the `container:` network mode' },
  DEN1212: {
    kind: 'FailedPrecondition',
    meaning: 'the container whose network a `container:` container joins was removed',
  },
  DEN1213: {
    kind: 'FailedPrecondition',
    meaning: 'the container whose network a `container:` container joins is not running',
  },
  DEN1214: {
    kind: 'FailedPrecondition',
    meaning: 'the network helper (pasta, slirp4netns) could not make or connect the namespace',
  },
  DEN1215: { kind: 'InvalidArgument', meaning: 'an invalid `--add-host`, `--dns` or `--mac-address` value' },
  DEN1216: { kind: 'NotFound', meaning: '`den port`: no such port published' },
  DEN1217: {
    kind: 'FailedPrecondition',
    meaning: 'rootless: ports published on a user network (nothing forwards them into its namespace yet)',
  },
  DEN1218: {
    kind: 'InvalidArgument',
    meaning: 'DEN_NETWORK, or `network` in den.conf, is not a network a container can be given by default',
  },
  DEN1301: {
    kind: 'InvalidArgument',
    meaning: 'the default --userns (DEN_USERNS, den.conf, containers.conf) is not a --userns value',
  },
  DEN1302: {
    kind: 'InvalidArgument',
    meaning: 'den.conf: a line that is not `name = value`, an unknown setting, or a file den cannot read',
  },
  DEN1303: {
    kind: 'InvalidArgument',
    meaning: '`--cap-add`/`--cap-drop`: not a capability name (CHOWN, CAP_CHOWN or ALL)',
  },
  DEN1304: {
    kind: 'FailedPrecondition',
    meaning: '`--cap-add` of a capability den itself lacks (its bounding set): no container can have it',
  },
  DEN1305: { kind: 'InvalidArgument', meaning: '`--security-opt`: an unknown option or a value it does not take' },
  DEN1306: {
    kind: 'InvalidArgument',
    meaning: '`--security-opt seccomp=FILE`: the file cannot be read or is not a seccomp profile',
  },
  DEN1307: { kind: 'InvalidArgument', meaning: "`--group-add`: neither a gid nor a group of the image's /etc/group" },
  DEN1308: { kind: 'InvalidArgument', meaning: '`--group-add keep-groups` combined with other groups' },
  DEN1309: {
    kind: 'FailedPrecondition',
    meaning: '`--group-add keep-groups` as root, or with a runtime other than crun',
  },
  DEN1220: { kind: 'AlreadyExists', meaning: '`den network create`: a network of that name exists' },
  DEN1221: {
    kind: 'InvalidArgument',
    meaning: '`--subnet`: not an IPv4 network in CIDR form (/8 to /30), host bits set, or IPv6',
  },
  DEN1222: { kind: 'NotFound', meaning: 'no network of that name or id' },
  DEN1223: {
    kind: 'Conflict',
    meaning: '`--subnet` overlaps another network (or link-local), or no free subnet is left',
  },
  DEN1224: { kind: 'InvalidArgument', meaning: '`--gateway`: not a host address of the subnet' },
  DEN1225: { kind: 'Conflict', meaning: '`den network rm` of a network that containers are attached to' },
  DEN1226: { kind: 'InvalidArgument', meaning: '`den network rm` of the default network, den' },
  DEN1227: { kind: 'AlreadyExists', meaning: '`den network connect`: the container is on that network already' },
  DEN1228: { kind: 'InvalidArgument', meaning: '`--ip`: not a host address of the network (or its gateway)' },
  DEN1229: { kind: 'Conflict', meaning: '`--ip`: another container on the network has that address' },
  DEN1230: {
    kind: 'FailedPrecondition',
    meaning: 'netavark, aardvark-dns or pasta, which user networks need, is not installed',
  },
  DEN1231: {
    kind: 'FailedPrecondition',
    meaning: "the shared rootless network namespace cannot be made (pasta's reason follows)",
  },
  DEN1232: {
    kind: 'FailedPrecondition',
    meaning: "netavark cannot connect a container to its networks (netavark's reason follows)",
  },
  DEN1233: {
    kind: 'FailedPrecondition',
    meaning: "netavark cannot disconnect a container from its networks (netavark's reason follows)",
  },
  DEN1234: { kind: 'FailedPrecondition', meaning: 'the network has no free address left' },
  DEN1235: { kind: 'NotFound', meaning: '`den network disconnect`: the container is not on that network' },
  DEN1236: {
    kind: 'InvalidArgument',
    meaning: '`den network create`: a name docker refuses, or one of the network modes (none, host, ...)',
  },
  DEN1237: {
    kind: 'InvalidArgument',
    meaning: '`den network create`: a driver other than bridge, or an `-o` option den does not take',
  },
  DEN1238: {
    kind: 'InvalidArgument',
    meaning: '`den network ls`/`prune` `--filter`: not KEY=VALUE, or a key den does not take',
  },
  DEN1239: {
    kind: 'InvalidArgument',
    meaning: '`den network prune` asks for confirmation, and stdin is not a terminal (add -f)',
  },
  DEN1240: {
    kind: 'FailedPrecondition',
    meaning: '`den network connect`/`disconnect` of a running container, or of one on the host network or none',
  },
  DEN1320: {
    kind: 'InvalidArgument',
    meaning: 'a volume name that is not a letter or digit followed by letters, digits, `_` `.` `-`',
  },
  DEN1321: {
    kind: 'InvalidArgument',
    meaning: '`den volume create --opt`: a key the local driver does not take, or type/device not given together',
  },
  DEN1322: {
    kind: 'NotFound',
    meaning: 'no volume of that name',
  },
  DEN1323: {
    kind: 'Conflict',
    meaning: '`den volume create`: a volume of that name exists with other options',
  },
  DEN1324: {
    kind: 'Conflict',
    meaning: '`den volume rm`/`prune`: the volume is used by a container',
  },
  DEN1325: {
    kind: 'InvalidArgument',
    meaning: '`--mount`: an unknown key, a missing target or source, or a key of another mount type',
  },
  DEN1326: {
    kind: 'InvalidArgument',
    meaning: '`--tmpfs`: an option that is not size=, mode= or a mount flag',
  },
  DEN1327: {
    kind: 'InvalidArgument',
    meaning: '`--device`: not HOST[:CONTAINER][:PERMISSIONS] with absolute paths and r, w, m',
  },
  DEN1328: {
    kind: 'InvalidArgument',
    meaning: "two mounts (or a mount and the image's VOLUME via --volumes-from) at one container path",
  },
  DEN1329: {
    kind: 'NotFound',
    meaning: '`--device`: the host path does not exist or is not a device node',
  },
  DEN1330: {
    kind: 'FailedPrecondition',
    meaning: '`--device`: the caller cannot open the device for what PERMISSIONS ask',
  },
  DEN1331: {
    kind: 'FailedPrecondition',
    meaning: '`:idmap`: the kernel refuses an idmapped mount of the source here (rootless, or its file system)',
  },
  DEN1332: {
    kind: 'FailedPrecondition',
    meaning: 'rootless: a container with ids of its own and a volume whose files are stored in other ids',
  },
  DEN1333: {
    kind: 'FailedPrecondition',
    meaning: "`:U`: the source is not the caller's, or is used by another container",
  },
  DEN1334: {
    kind: 'FailedPrecondition',
    meaning: "a volume's `--opt type/device/o` mount failed",
  },
  DEN1335: {
    kind: 'InvalidArgument',
    meaning: '`--volumes-from`: not CONTAINER, CONTAINER:ro or CONTAINER:rw',
  },
  DEN1336: {
    kind: 'FailedPrecondition',
    meaning: 'a volume could not be filled from the image (or chowned for `:U`)',
  },
  DEN1337: {
    kind: 'InvalidArgument',
    meaning: '`den volume ls`/`prune` `--filter`: not KEY=VALUE, or a key den does not take',
  },
  DEN1338: {
    kind: 'InvalidArgument',
    meaning: '`den volume prune` asks for confirmation, and stdin is not a terminal (add -f)',
  },
  DEN1350: { kind: 'InvalidArgument', meaning: '`den toolbox`: an invalid toolbox name' },
  DEN1351: { kind: 'NotFound', meaning: '`den toolbox`: no toolbox of that name' },
  DEN1352: {
    kind: 'FailedPrecondition',
    meaning: '`den toolbox create`: setting up the user inside the container failed',
  },
  DEN1353: {
    kind: 'FailedPrecondition',
    meaning: '`--x11`, `--wayland`, `--audio`, `--gui`: the session has no such display or sound server',
  },
  DEN1354: { kind: 'Conflict', meaning: '`den toolbox create`: a container of that name exists' },
  DEN1355: { kind: 'FailedPrecondition', meaning: "`den toolbox create`: the user is not den's own user" },
  DEN1356: { kind: 'FailedPrecondition', meaning: '`den toolbox enter`/`run`: the toolbox was made for another user' },
  DEN1357: { kind: 'FailedPrecondition', meaning: '`den toolbox`: the container is not a toolbox' },
  DEN1358: { kind: 'NotFound', meaning: '`den toolbox`: the caller has no passwd entry (no name, home or shell)' },
  DEN1501: { kind: 'Internal', meaning: 'the `igzip` program cannot be run or its output cannot be read' },
  DEN1502: {
    kind: 'InvalidArgument',
    meaning: '`DEN_GZIP` is not igzip or zlib, or igzip is asked for and not installed',
  },
  DEN1503: { kind: 'Internal', meaning: '`den push`: `igzip` fails to compress a plain layer' },
  DEN1601: {
    kind: 'FailedPrecondition',
    meaning: 'a container whose ids den-idmap shifts, where den-idmap is not installed setuid root',
  },
  DEN1602: {
    kind: 'FailedPrecondition',
    meaning: "den-idmap refused or failed an idmapped mount of a layer (den-idmap's reason follows)",
  },
  DEN1603: { kind: 'FailedPrecondition', meaning: '`DEN_SHIFT=helper` where den-idmap is not installed setuid root' },
  DEN1604: {
    kind: 'InvalidArgument',
    meaning: '`DEN_IDMAP_HELPER_DIR` naming a directory that is not an absolute path',
  },
  DEN1401: { kind: 'NotFound', meaning: 'the Docker API: no such endpoint' },
  DEN1402: { kind: 'InvalidArgument', meaning: 'the Docker API: a client version older than 1.24 or newer than 1.41' },
  DEN1403: {
    kind: 'InvalidArgument',
    meaning: 'the Docker API: a request body that is not a JSON object, or too large',
  },
  DEN1404: {
    kind: 'InvalidArgument',
    meaning: 'the Docker API: a create request with a field or value den does not take (the message names it)',
  },
  DEN1405: {
    kind: 'Unavailable',
    meaning: 'the Docker API: an endpoint den does not serve yet (volumes, build; status 501)',
  },
  DEN1406: {
    kind: 'FailedPrecondition',
    meaning: '`den system service`: the socket cannot be listened on (in use, not a socket)',
  },
  DEN1407: {
    kind: 'InvalidArgument',
    meaning: '`den system service`: a URI other than unix:///PATH (TCP needs TLS client certificates)',
  },
  DEN1408: {
    kind: 'InvalidArgument',
    meaning: 'the Docker API: a query parameter that cannot be read (boolean, number, filters)',
  },
  DEN1409: { kind: 'InvalidArgument', meaning: '`den system service --time`: not a whole number of seconds' },
  DEN1410: { kind: 'InvalidArgument', meaning: 'the Docker API: a method the endpoint does not take (status 405)' },
  DEN1411: { kind: 'NotFound', meaning: 'the Docker API: no such exec instance' },
  DEN1412: { kind: 'Conflict', meaning: 'the Docker API: an exec instance started a second time' },
} as const satisfies Record<string, { kind: ErrorKind; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** True for a code in the registry: for codes that crossed a process boundary (den's workers). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}
