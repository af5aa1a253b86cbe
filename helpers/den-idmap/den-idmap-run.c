/*
 * den-idmap-run: the unprivileged other end of den-idmap. Runs the helper with one end of a unix
 * socket pair as --fd, receives the detached idmapped mount, and runs a command whose working
 * directory is the mount's root (the mount is used through its fd, unattached: nothing to
 * unmount, it goes when the last fd closes). The mount's fd stays open in the command as fd 3, so
 * the command may also attach it (move_mount) in a mount namespace of its own.
 *
 *   den-idmap-run HELPER [HELPER-ARGS...] -- COMMAND [ARGS...]
 *   den-idmap-run --attach TARGET
 *
 * The second form is such a command: it attaches the mount at fd 3 onto TARGET (move_mount) in the
 * mount namespace it runs in, which is how den puts a layer's mount into the rootless session:
 *
 *   den-idmap-run den-idmap ... -- nsenter -t PAUSE -U -m -- den-idmap-run --attach DIR
 *
 * Exit status: the helper's when it refused (its message is on stderr), 125 when this program
 * itself fails, else the command's (it is exec'd).
 *
 * Not setuid: it holds nothing the caller does not. The tests and the rootless snapshotter use it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void fail(const char *what)
{
	fprintf(stderr, "den-idmap-run: %s: %s\n", what, strerror(errno));
	exit(125);
}

/* Attaches the detached mount at fd 3 onto `target`, in this process's mount namespace. */
static int attach(const char *target)
{
	if (syscall(SYS_move_mount, 3, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)) {
		fprintf(stderr, "den-idmap-run: cannot attach the mount at %s: %s\n", target, strerror(errno));
		return 125;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int sep = -1, sv[2], status, mnt = -1;
	char byte, fdarg[16];
	pid_t pid;

	if (argc == 3 && strcmp(argv[1], "--attach") == 0)
		return attach(argv[2]);

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			sep = i;
			break;
		}
	if (argc < 2 || sep < 2 || sep + 1 >= argc) {
		fprintf(stderr, "usage: den-idmap-run HELPER [HELPER-ARGS...] -- COMMAND [ARGS...]\n");
		return 125;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		fail("socketpair");
	pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		/* The helper's end at fd 3 (dup2 clears close-on-exec), its arguments then --fd 3. */
		char **args = calloc((size_t)sep + 3, sizeof(char *));
		if (!args || (sv[1] == 3 ? fcntl(3, F_SETFD, 0) : dup2(sv[1], 3)) != (sv[1] == 3 ? 0 : 3))
			_exit(125);
		for (int i = 1; i < sep; i++)
			args[i - 1] = argv[i];
		snprintf(fdarg, sizeof(fdarg), "3");
		args[sep - 1] = "--fd";
		args[sep] = fdarg;
		execv(argv[1], args);
		fprintf(stderr, "den-idmap-run: %s: %s\n", argv[1], strerror(errno));
		_exit(125);
	}
	close(sv[1]);
	{
		union {
			struct cmsghdr h;
			char buf[CMSG_SPACE(sizeof(int))];
		} u;
		struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(sv[0], &msg, MSG_CMSG_CLOEXEC);
		struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&mnt, CMSG_DATA(c), sizeof(int));
	}
	if (waitpid(pid, &status, 0) != pid)
		fail("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status)) {
			fprintf(stderr, "den-idmap-run: the helper died of signal %d\n", WTERMSIG(status));
			return 125;
		}
		return WEXITSTATUS(status);
	}
	if (mnt < 0) {
		fprintf(stderr, "den-idmap-run: the helper succeeded but sent no mount\n");
		return 125;
	}
	if ((mnt == 3 ? fcntl(3, F_SETFD, 0) : dup2(mnt, 3)) < 0)
		fail("the received mount");
	/*
	 * Into the mount where the caller may enter it; where its root is closed to them as the map
	 * shows it (a layer of mode 0700, seen as another id's), the command still gets it at fd 3.
	 */
	if (fchdir(3) && errno != EACCES)
		fail("the received mount");
	execvp(argv[sep + 1], argv + sep + 1);
	fail(argv[sep + 1]);
	return 125;
}
