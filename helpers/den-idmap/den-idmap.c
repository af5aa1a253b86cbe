/*
 * den-idmap: makes an idmapped mount of a directory for the user who runs it, and hands it back as
 * a file descriptor. Installed setuid root, in the tradition of newuidmap: it grants a user nothing
 * beyond the ids /etc/subuid and /etc/subgid already give them.
 *
 *   den-idmap --fd N --uid-map MAP --gid-map MAP --source DIR [--read-only]
 *
 *   MAP   ON_DISK:SEEN:COUNT[,ON_DISK:SEEN:COUNT...]: files owned on disk by ON_DISK..ON_DISK+COUNT-1
 *         appear through the mount owned by SEEN..SEEN+COUNT-1 (and files created through the mount
 *         land on disk with the reverse mapping). These are the lines of the user namespace the
 *         helper gives the mount: inside = on disk, outside = seen.
 *   DIR   an absolute path, resolved with the caller's permissions.
 *   N     a unix socket (not 0, 1 or 2) on which the mount's fd is sent (SCM_RIGHTS) with one byte.
 *
 * Why a file descriptor over a socket rather than attaching the mount at a path: the helper never
 * enters a namespace the caller controls and never resolves a path inside one. The caller attaches
 * the detached mount (move_mount) in its own mount namespace with its own privileges, or uses it
 * as a directory fd directly. A detached mount whose last fd is closed disappears, so nothing is
 * left behind whatever happens to the caller.
 *
 * Rules (each refusal is logged to syslog, as newuidmap does, and printed as one line on stderr):
 *   - Every id on both sides of each extent is the caller's own (real uid, real gid) or inside one
 *     of the caller's ranges in /etc/subuid (uids) or /etc/subgid (gids), matched by user name or
 *     by numeric uid as shadow does. An extent may span several adjacent ranges (newuidmap allows
 *     that too); both sides are checked, not only the outside one as newuidmap does, because here
 *     the inside is the disk: the caller may relabel only files their own ids own, and only to ids
 *     they own.
 *   - Extents as the kernel takes them: COUNT >= 1, no wrap past 4294967294, at most 340 extents
 *     and less than a page of text (the kernel reads uid_map in one write), no two extents
 *     overlapping on either side.
 *   - The source is opened with openat2(RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS) while the
 *     helper runs with the caller's uid and gids, so it reaches only what the caller can reach; a
 *     `.` or `..` component (or an empty one) is refused before the call. Everything after that is
 *     checked on the opened fd, never on the path again: it is a directory, and its owner is the
 *     caller's uid or one of the caller's subordinate uids (ids the caller controls already through
 *     newuidmap; den's rootless store holds layers owned so). Submounts below the source are not
 *     part of the clone (no AT_RECURSIVE).
 *   - The mount is nosuid and nodev, read-only on request. The kernel refuses file systems that
 *     cannot be idmapped (procfs, FUSE servers that do not opt in, ramfs ...). Once the caller has
 *     attached it in a mount namespace of their own user namespace they may remount it without
 *     nosuid or nodev (the kernel locks flags only when it copies mounts into such a namespace, not
 *     when one is moved in); that gains nothing: inside, a setuid file can only make its runner
 *     one of the caller's own ids (both sides of the map are theirs, and an unmapped owner never
 *     applies), and outside their namespace nobody sees the mount.
 *   - The environment is cleared, fds 0-2 are made valid, nothing is read from the caller but the
 *     arguments, and the helper holds root only for the three calls that need it (making the user
 *     namespace, open_tree, mount_setattr). The user namespace is made by a child that lives until
 *     its map is written; it is owned by root, so the caller cannot enter or ptrace it.
 *
 * Exit status: 0 done; 1 an unexpected system error; 2 malformed arguments; 3 a malformed map
 * (zero count, wrap, overlap, too many extents); 4 a map naming ids that are not the caller's;
 * 5 the source path (symlink, `..`, missing, not reachable, not a directory); 6 the source is not
 * the caller's; 7 the file system cannot be idmapped; 8 the fd is not a unix socket or the send
 * failed; 9 the helper is not installed right (not setuid root, subordinate id files unsafe).
 *
 * Build: cc -O2 -Wall -Wextra -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -pie -o den-idmap den-idmap.c
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

enum {
	EXIT_SYSTEM = 1,
	EXIT_USAGE = 2,
	EXIT_MAP_MALFORMED = 3,
	EXIT_MAP_NOT_YOURS = 4,
	EXIT_SOURCE_PATH = 5,
	EXIT_SOURCE_OWNER = 6,
	EXIT_NOT_IDMAPPABLE = 7,
	EXIT_HANDOFF = 8,
	EXIT_INSTALL = 9,
};

/* The kernel's limit on extents per map (UID_GID_MAP_MAX_EXTENTS). */
#define MAX_EXTENTS 340
/* The largest id: (uid_t)-1 is never a valid id. */
#define MAX_ID 4294967294ULL
/* A 340-extent map of 10-digit numbers is 340 * 33 bytes: 16 KiB bounds any honest argument. */
#define MAX_ARG 16384
/* Subordinate id files: lines longer than this are not shadow's and grant nothing. */
#define MAX_LINE 1024
#define MAX_RANGES 1024

struct extent {
	uint64_t inside, outside, count;
};

struct map {
	struct extent e[MAX_EXTENTS];
	size_t n;
};

struct range {
	uint64_t start, count;
};

struct ranges {
	struct range r[MAX_RANGES + 1];
	size_t n;
};

static uid_t caller_uid;
static gid_t caller_gid;
static char caller_name[64] = "?";

static void refuse(int status, const char *fmt, ...) __attribute__((noreturn, format(printf, 2, 3)));

/* One line on stderr and one in syslog (LOG_AUTHPRIV, as shadow's tools), then exit. */
static void refuse(int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = '?';
	fprintf(stderr, "den-idmap: %s\n", msg);
	syslog(LOG_WARNING, "uid %u (%s): refused: %s", (unsigned)caller_uid, caller_name, msg);
	exit(status);
}

/* ---- arguments ------------------------------------------------------------------------------ */

/* A decimal number without sign, spaces or leading zeros, at most `max`. Advances *s. */
static int parse_number(const char **s, uint64_t max, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	if (*p == '0' && isdigit((unsigned char)p[1]))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	*s = p;
	*out = v;
	return 0;
}

/* The map as the kernel reads it, into buf (may be NULL to measure); the length it needs. */
static size_t format_map(const struct map *m, char *buf, size_t size)
{
	size_t len = 0;

	for (size_t i = 0; i < m->n; i++) {
		int n = snprintf(buf ? buf + len : NULL, buf ? size - len : 0, "%llu %llu %llu\n",
				 (unsigned long long)m->e[i].inside, (unsigned long long)m->e[i].outside,
				 (unsigned long long)m->e[i].count);
		len += (size_t)n;
	}
	return len;
}

/*
 * The kernel takes a map in one write of less than a page: with ids of six digits and more, that
 * comes before the 340 extents (a 340-extent map fits only with short ids).
 */
static size_t map_write_limit(void)
{
	long page = sysconf(_SC_PAGESIZE);
	return page > 0 ? (size_t)page : 4096;
}

static void parse_map(const char *flag, const char *text, struct map *m)
{
	const char *p = text;

	m->n = 0;
	for (;;) {
		struct extent e;

		if (m->n == MAX_EXTENTS)
			refuse(EXIT_MAP_MALFORMED, "%s: more than %d extents (the kernel's limit)", flag,
			       MAX_EXTENTS);
		if (parse_number(&p, MAX_ID, &e.inside) || *p++ != ':' ||
		    parse_number(&p, MAX_ID, &e.outside) || *p++ != ':' ||
		    parse_number(&p, MAX_ID + 1, &e.count))
			refuse(EXIT_USAGE, "%s: extent %zu is not ON_DISK:SEEN:COUNT (decimal ids)", flag,
			       m->n + 1);
		if (e.count == 0)
			refuse(EXIT_MAP_MALFORMED, "%s: extent %zu has count 0", flag, m->n + 1);
		if (e.inside + e.count - 1 > MAX_ID || e.outside + e.count - 1 > MAX_ID)
			refuse(EXIT_MAP_MALFORMED, "%s: extent %zu runs past id %llu", flag, m->n + 1, MAX_ID);
		m->e[m->n++] = e;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			refuse(EXIT_USAGE, "%s: extents are separated by commas", flag);
	}
	/* The kernel refuses overlaps on either side; saying which two is kinder than EINVAL. */
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = i + 1; j < m->n; j++) {
			const struct extent *a = &m->e[i], *b = &m->e[j];
			if ((a->inside < b->inside + b->count && b->inside < a->inside + a->count) ||
			    (a->outside < b->outside + b->count && b->outside < a->outside + a->count))
				refuse(EXIT_MAP_MALFORMED, "%s: extents %zu and %zu overlap", flag, i + 1, j + 1);
		}
	if (format_map(m, NULL, 0) >= map_write_limit())
		refuse(EXIT_MAP_MALFORMED,
		       "%s: %zu extents take more than the kernel reads in one write of uid_map (%zu bytes)",
		       flag, m->n, map_write_limit() - 1);
}

struct request {
	int fd;
	const char *uid_map, *gid_map, *source;
	int read_only;
};

static const char usage[] = "usage: den-idmap --fd N --uid-map MAP --gid-map MAP --source DIR [--read-only]";

static void parse_args(int argc, char **argv, struct request *req)
{
	memset(req, 0, sizeof(*req));
	req->fd = -1;
	if (argc < 1 || argc > 16)
		refuse(EXIT_USAGE, "%s", usage);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strnlen(a, MAX_ARG + 1) > MAX_ARG)
			refuse(EXIT_USAGE, "argument %d is longer than %d bytes", i, MAX_ARG);
		if (strcmp(a, "--read-only") == 0) {
			if (req->read_only)
				refuse(EXIT_USAGE, "--read-only given twice");
			req->read_only = 1;
			continue;
		}
		if (strcmp(a, "--uid-map") == 0)
			slot = &req->uid_map;
		else if (strcmp(a, "--gid-map") == 0)
			slot = &req->gid_map;
		else if (strcmp(a, "--source") == 0)
			slot = &req->source;
		else if (strcmp(a, "--fd") != 0)
			refuse(EXIT_USAGE, "unknown argument %d; %s", i, usage);
		if (i + 1 >= argc)
			refuse(EXIT_USAGE, "%s needs a value", a);
		const char *v = argv[++i];
		if (strnlen(v, MAX_ARG + 1) > MAX_ARG)
			refuse(EXIT_USAGE, "the value of %s is longer than %d bytes", a, MAX_ARG);
		if (slot == NULL) {
			uint64_t n;
			const char *p = v;
			if (req->fd != -1)
				refuse(EXIT_USAGE, "--fd given twice");
			if (parse_number(&p, INT_MAX, &n) || *p != '\0')
				refuse(EXIT_USAGE, "--fd: not a file descriptor number");
			req->fd = (int)n;
		} else {
			if (*slot)
				refuse(EXIT_USAGE, "%s given twice", a);
			*slot = v;
		}
	}
	if (req->fd == -1 || !req->uid_map || !req->gid_map || !req->source)
		refuse(EXIT_USAGE, "%s", usage);
}

/* ---- /etc/subuid and /etc/subgid ---------------------------------------------------------------- */

/*
 * The caller's ranges, the way shadow reads the file: `owner:start:count` lines whose owner is the
 * caller's name or decimal uid. Lines that do not parse grant nothing. The file must be root's and
 * writable by root alone, or it grants nothing at all and the helper says the installation is wrong.
 */
static void read_ranges(const char *file, struct ranges *rs)
{
	char line[MAX_LINE + 2];
	char uid_text[16];
	struct stat st;
	FILE *f;

	rs->n = 0;
	snprintf(uid_text, sizeof(uid_text), "%u", (unsigned)caller_uid);
	f = fopen(file, "re");
	if (!f) {
		if (errno == ENOENT)
			return;
		refuse(EXIT_INSTALL, "cannot read %s: %s", file, strerror(errno));
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022))
		refuse(EXIT_INSTALL, "%s is not a regular file owned and writable by root alone", file);
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *owner, *rest, *colon;
		uint64_t start, count;
		const char *p;

		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			/* An overlong line: skip the rest of it. */
			int c;
			while ((c = getc(f)) != EOF && c != '\n')
				;
			continue;
		}
		owner = line;
		colon = strchr(owner, ':');
		if (!colon)
			continue;
		*colon = '\0';
		if (strcmp(owner, caller_name) != 0 && strcmp(owner, uid_text) != 0)
			continue;
		rest = colon + 1;
		p = rest;
		if (parse_number(&p, MAX_ID, &start) || *p++ != ':' || parse_number(&p, MAX_ID + 1, &count) ||
		    *p != '\0' || count == 0 || start + count - 1 > MAX_ID)
			continue;
		if (rs->n == MAX_RANGES)
			break;
		rs->r[rs->n++] = (struct range){ start, count };
	}
	fclose(f);
}

/* True when every id of [start, start+count) is `own` or in one of the ranges. */
static int owns(const struct ranges *rs, uint64_t own, uint64_t start, uint64_t count)
{
	uint64_t end = start + count; /* exclusive */
	int progress = 1;

	/* Walk forward from `start`, each step consuming the allowed interval that contains it. */
	while (start < end && progress) {
		progress = 0;
		if (start == own) {
			start++;
			progress = 1;
			continue;
		}
		for (size_t i = 0; i < rs->n; i++) {
			const struct range *r = &rs->r[i];
			if (r->start <= start && start < r->start + r->count) {
				start = r->start + r->count;
				progress = 1;
				break;
			}
		}
	}
	return start >= end;
}

static void check_map(const char *flag, const char *file, const struct map *m, uint64_t own,
		      const struct ranges *rs)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct extent *e = &m->e[i];
		const char *side = NULL;
		uint64_t first = 0;

		if (!owns(rs, own, e->inside, e->count)) {
			side = "on-disk";
			first = e->inside;
		} else if (!owns(rs, own, e->outside, e->count)) {
			side = "seen";
			first = e->outside;
		}
		if (side)
			refuse(EXIT_MAP_NOT_YOURS,
			       "%s: extent %zu: %s ids %llu-%llu are not all yours (your id %llu and your "
			       "ranges in %s%s)",
			       flag, i + 1, side, (unsigned long long)first,
			       (unsigned long long)(first + e->count - 1), (unsigned long long)own, file,
			       rs->n == 0 ? ", where you have none" : "");
	}
}

/* ---- privileges --------------------------------------------------------------------------------- */

/* Effective root, for one call that needs it. */
static void become_root(void)
{
	if (seteuid(0) || setegid(0))
		refuse(EXIT_SYSTEM, "cannot regain root: %s", strerror(errno));
}

/* Effective caller (uid, gid and groups as they came), so lookups get the caller's permissions. */
static gid_t caller_groups[NGROUPS_MAX];
static int n_caller_groups;

static void become_caller(void)
{
	if (geteuid() != 0)
		become_root();
	if (setgroups((size_t)n_caller_groups, caller_groups) || setegid(caller_gid) || seteuid(caller_uid))
		refuse(EXIT_SYSTEM, "cannot take the caller's ids: %s", strerror(errno));
}

/* For good: real, effective and saved ids all the caller's, and no way back. */
static void drop_for_good(void)
{
	if (geteuid() != 0)
		become_root();
	if (setgroups((size_t)n_caller_groups, caller_groups) ||
	    setresgid(caller_gid, caller_gid, caller_gid) || setresuid(caller_uid, caller_uid, caller_uid))
		refuse(EXIT_SYSTEM, "cannot drop root: %s", strerror(errno));
	if (caller_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		refuse(EXIT_SYSTEM, "root could be regained after dropping it");
}

/* ---- the source --------------------------------------------------------------------------------- */

static int open_source(const char *path, const struct ranges *subuids)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, /* a trailing symlink: ELOOP from RESOLVE_NO_SYMLINKS */
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	size_t len = strlen(path);
	int fd;

	if (path[0] != '/')
		refuse(EXIT_SOURCE_PATH, "--source must be an absolute path");
	if (len >= PATH_MAX)
		refuse(EXIT_SOURCE_PATH, "--source is longer than %d bytes", PATH_MAX - 1);
	/* Components: no `.`, no `..`, no empty one (`//`, a trailing `/`). The root itself is refused too. */
	for (const char *c = path + 1;;) {
		const char *slash = strchr(c, '/');
		size_t n = slash ? (size_t)(slash - c) : strlen(c);
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			refuse(EXIT_SOURCE_PATH, "--source: an empty, `.` or `..` component in %s", path);
		if (!slash)
			break;
		c = slash + 1;
	}
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0) {
		if (errno == ELOOP)
			refuse(EXIT_SOURCE_PATH, "--source %s: a component is a symbolic link", path);
		if (errno == ENOSYS)
			refuse(EXIT_NOT_IDMAPPABLE, "the kernel has no openat2 (5.6+ is needed)");
		refuse(EXIT_SOURCE_PATH, "--source %s: %s", path, strerror(errno));
	}
	/* EACCES here: a FUSE mount, which answers no process with a saved uid of root. */
	if (fstat(fd, &st))
		refuse(EXIT_SOURCE_PATH, "--source %s: cannot stat it: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		refuse(EXIT_SOURCE_PATH, "--source %s is not a directory", path);
	if (st.st_uid != caller_uid && !owns(subuids, UINT64_MAX, st.st_uid, 1))
		refuse(EXIT_SOURCE_OWNER,
		       "--source %s is owned by uid %u, neither you nor one of your subordinate uids", path,
		       (unsigned)st.st_uid);
	return fd;
}

/* ---- the user namespace and the mount --------------------------------------------------------- */

static void write_map_file(pid_t pid, const char *name, const struct map *m)
{
	char path[64], text[MAX_EXTENTS * 40];
	size_t len = format_map(m, text, sizeof(text));
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	/* The kernel takes a map in one write. */
	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		refuse(EXIT_SYSTEM, "cannot write %s of the mount's user namespace: %s", name, strerror(errno));
	close(fd);
}

/*
 * A user namespace with the validated maps, as an fd. A child unshares it and waits on a pipe
 * until its maps are written and the parent holds the namespace open; the child dies with the
 * parent (PDEATHSIG), so a killed helper leaves no process behind.
 */
static int make_userns(const struct map *uids, const struct map *gids)
{
	int ready[2], go[2], nsfd, status;
	char path[64], c = 0;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		refuse(EXIT_SYSTEM, "pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		refuse(EXIT_SYSTEM, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1 || unshare(CLONE_NEWUSER))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		/* Returns at EOF, when the parent is done with us. */
		if (read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	if (read(ready[0], &c, 1) != 1) {
		waitpid(pid, NULL, 0);
		refuse(EXIT_SYSTEM, "cannot make a user namespace (unshare failed)");
	}
	write_map_file(pid, "uid_map", uids);
	write_map_file(pid, "gid_map", gids);
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		refuse(EXIT_SYSTEM, "cannot open the mount's user namespace: %s", strerror(errno));
	close(go[1]);
	close(ready[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		refuse(EXIT_SYSTEM, "the user namespace's process failed");
	return nsfd;
}

static int make_mount(int source, int userns, int read_only)
{
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
			    (read_only ? MOUNT_ATTR_RDONLY : 0),
		.userns_fd = (uint64_t)userns,
	};
	int mnt;

	mnt = (int)syscall(SYS_open_tree, source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (mnt < 0) {
		if (errno == ENOSYS)
			refuse(EXIT_NOT_IDMAPPABLE, "the kernel has no open_tree (5.2+ is needed)");
		/* EINVAL: the source is in no mount namespace of ours (a detached or lazily unmounted tree). */
		refuse(EXIT_NOT_IDMAPPABLE, "cannot clone the source's mount: %s", strerror(errno));
	}
	if (syscall(SYS_mount_setattr, mnt, "", AT_EMPTY_PATH, &attr, sizeof(attr))) {
		if (errno == EINVAL || errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS)
			refuse(EXIT_NOT_IDMAPPABLE,
			       "the source's file system cannot be idmapped here (%s; ext4, xfs and btrfs "
			       "need kernel 5.12+, tmpfs 6.3+; procfs, ramfs and most FUSE file systems never)",
			       strerror(errno));
		refuse(EXIT_SYSTEM, "mount_setattr: %s", strerror(errno));
	}
	return mnt;
}

static void send_fd(int sock, int fd)
{
	char byte = 'm';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != 1)
		refuse(EXIT_HANDOFF, "--fd %d: cannot send the mount: %s", sock, strerror(errno));
}

static void check_socket(int fd)
{
	struct stat st;
	int domain = 0;
	socklen_t len = sizeof(domain);

	if (fd <= 2)
		refuse(EXIT_HANDOFF, "--fd %d: must not be stdin, stdout or stderr", fd);
	if (fstat(fd, &st) || !S_ISSOCK(st.st_mode) ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) || domain != AF_UNIX)
		refuse(EXIT_HANDOFF, "--fd %d is not an open unix socket", fd);
}

/* ---- main ----------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static struct map uids, gids;
	static struct ranges subuids, subgids;
	struct request req;
	struct passwd *pw;
	int source, userns, mnt;

	/*
	 * Before anything: nothing from the caller's environment reaches us or a library we call
	 * (glibc already ignores LD_PRELOAD and friends in a setuid process; this covers the rest:
	 * TZ, LOCALPATH, NLSPATH ...), and fds 0-2 are open so that a message never lands in a file
	 * or socket the caller opened at 2.
	 */
	clearenv();
	umask(077);
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(EXIT_SYSTEM);
	caller_uid = getuid();
	caller_gid = getgid();
	openlog("den-idmap", LOG_PID, LOG_AUTHPRIV);
	prctl(PR_SET_DUMPABLE, 0);
	n_caller_groups = getgroups(NGROUPS_MAX, caller_groups);
	if (n_caller_groups < 0)
		refuse(EXIT_SYSTEM, "getgroups: %s", strerror(errno));
	if (geteuid() != 0)
		refuse(EXIT_INSTALL, "not setuid root: install it owned by root with mode 4755");
	if (caller_uid == 0)
		refuse(EXIT_USAGE, "root needs no helper: make the idmapped mount directly");
	/* The caller's name, for their subordinate id lines; a uid without one is matched by number. */
	pw = getpwuid(caller_uid);
	if (pw && strlen(pw->pw_name) < sizeof(caller_name))
		snprintf(caller_name, sizeof(caller_name), "%s", pw->pw_name);
	else
		snprintf(caller_name, sizeof(caller_name), "%u", (unsigned)caller_uid);
	endpwent();

	become_caller();
	parse_args(argc, argv, &req);
	check_socket(req.fd);
	parse_map("--uid-map", req.uid_map, &uids);
	parse_map("--gid-map", req.gid_map, &gids);
	read_ranges("/etc/subuid", &subuids);
	read_ranges("/etc/subgid", &subgids);
	check_map("--uid-map", "/etc/subuid", &uids, caller_uid, &subuids);
	check_map("--gid-map", "/etc/subgid", &gids, caller_gid, &subgids);
	source = open_source(req.source, &subuids);

	become_root();
	userns = make_userns(&uids, &gids);
	mnt = make_mount(source, userns, req.read_only);
	drop_for_good();

	close(userns);
	close(source);
	send_fd(req.fd, mnt);
	close(mnt);
	return 0;
}
