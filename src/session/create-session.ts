/**
 * Creates the rootless session; run under `flock session.lock` as
 *   sh -c SCRIPT den-session RUNTIME_DIR "UID_MAP_ARGS" "GID_MAP_ARGS"
 *
 * The pause process is `unshare --user --mount` running a shell that tells us (through a fifo) it is
 * inside its new namespaces, waits while newuidmap/newgidmap write its maps from outside (only they
 * may map subordinate ids), then becomes `sleep infinity`. It runs in a session of its own (setsid)
 * with no open terminal or pipes, so it outlives the den command that made it.
 *
 * Its mounts are slaves of the host's (unshare's default would make them private): where the host's
 * mounts are shared (systemd makes / shared), a file system mounted after the session began (a
 * disk, a data directory on a new mount) shows inside too, where den unpacks and mounts; the
 * session's own mounts (container overlays) never show outside. (On a host whose / is private,
 * such as these sandboxes, nothing propagates either way: a new mount needs a new session.)
 *
 * A shell script rather than Node.js: it runs once per boot, and keeping it here keeps Node.js out
 * of every namespace step.
 */
export const CREATE_SESSION_SCRIPT = `
set -eu
dir=$1; umap=$2; gmap=$3
if [ -r "$dir/session" ]; then
  read -r pid start < "$dir/session" || true
  # Alive (not a zombie: state Z or X; not exiting: PF_EXITING, 4, in the flags) and the same
  # process (start time): the checks of processStartTime in session.ts.
  if [ -r "/proc/$pid/stat" ] && sed 's/.*) //' "/proc/$pid/stat" \
    | { read -r state _ _ _ _ _ flags _ && [ "$state" != Z ] && [ "$state" != X ] && [ $((flags & 4)) -eq 0 ]; } \
    && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$start" ]; then
    exit 0
  fi
fi
fifo="$dir/session.fifo"
rm -f "$fifo"
mkfifo -m 600 "$fifo"
setsid unshare --user --mount --propagation slave -- sh -c 'echo ready > "$1"; read -r _ < "$1"; exec sleep infinity' den-pause "$fifo" \\
  < /dev/null > /dev/null 2> "$dir/session.err" &
pid=$!
# Wait for the child to be inside its namespaces; if unshare failed it never opens the fifo.
if ! timeout 10 head -n 1 "$fifo" > /dev/null; then
  cat "$dir/session.err" >&2
  kill -9 "$pid" 2> /dev/null || true
  rm -f "$fifo"
  exit 1
fi
# shellcheck disable=SC2086 # the maps are lists of numbers, split on purpose
if ! newuidmap "$pid" $umap || ! newgidmap "$pid" $gmap; then
  kill -9 "$pid" 2> /dev/null || true
  rm -f "$fifo"
  exit 1
fi
echo go > "$fifo"
rm -f "$fifo"
start=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
echo "$pid $start" > "$dir/session.tmp"
mv "$dir/session.tmp" "$dir/session"
`;
