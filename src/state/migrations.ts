/**
 * The state database schema, one entry per version (PRAGMA user_version). Append only: a released
 * migration is never edited. docs/state.md describes the current schema; update it with each entry.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE images (
    id              TEXT PRIMARY KEY,      -- the config digest, sha256:<hex>
    manifest_digest TEXT NOT NULL,
    config          TEXT NOT NULL,         -- the OCI image config, JSON
    layers          TEXT NOT NULL,         -- JSON array of LayerRef, bottom first
    size            INTEGER NOT NULL,      -- bytes of unpacked content
    created_at      TEXT NOT NULL
  );
  CREATE TABLE image_names (
    name     TEXT PRIMARY KEY,             -- fully qualified reference: registry/repo:tag
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE INDEX image_names_by_image ON image_names(image_id);
  CREATE TABLE layers (
    chain_id   TEXT PRIMARY KEY,           -- sha256 chain id of this layer and all below it
    diff_id    TEXT NOT NULL,              -- digest of the uncompressed tar
    parent     TEXT,                       -- chain id of the layer below, NULL for the base
    size       INTEGER NOT NULL,           -- bytes of unpacked content
    entries    INTEGER NOT NULL,
    max_uid    INTEGER NOT NULL,
    max_gid    INTEGER NOT NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE containers (
    id          TEXT PRIMARY KEY,          -- 64 hex digits
    name        TEXT NOT NULL UNIQUE,
    image_id    TEXT NOT NULL REFERENCES images(id),
    image_name  TEXT NOT NULL,             -- what the user asked for, as docker ps shows it
    spec        TEXT NOT NULL,             -- ContainerSpec JSON: everything needed to (re)start
    status      TEXT NOT NULL,             -- created | running | exited | removing
    pid         INTEGER,                   -- the den process watching it (its monitor), while running
    pid_start   TEXT,                      -- its start time in /proc/PID/stat, to detect pid reuse
    exit_code   INTEGER,
    created_at  TEXT NOT NULL,
    started_at  TEXT,
    finished_at TEXT
  );
  `,
  `
  -- Per-container id ranges (--userns=auto): allocated inside the transaction that records the
  -- container, so concurrent den processes never hand out overlapping ranges; freed with it.
  CREATE TABLE id_ranges (
    container_id TEXT PRIMARY KEY REFERENCES containers(id) ON DELETE CASCADE,
    uid_start    INTEGER NOT NULL,
    gid_start    INTEGER NOT NULL,
    size         INTEGER NOT NULL
  );
  `,
  `
  -- Repository digests (docker's RepoDigests): the manifest a pull resolved, by the repository it
  -- came from. A name moves to the image pulled last (a digest of an index names one image per
  -- platform), as a tag does.
  CREATE TABLE image_digests (
    name     TEXT PRIMARY KEY,             -- registry/repo@sha256:<hex>
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
  );
  CREATE INDEX image_digests_by_image ON image_digests(image_id);
  `,
  `
  -- Services: a detached container is watched by a monitor (conmon) rather than by the den that
  -- started it; the container's own init pid, restart policies and health checks are recorded.
  ALTER TABLE containers ADD COLUMN monitor TEXT;             -- attached (a den) | conmon
  ALTER TABLE containers ADD COLUMN init_pid INTEGER;         -- the container's init, while running
  ALTER TABLE containers ADD COLUMN restart_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE containers ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0; -- den stop/kill: no restart
  ALTER TABLE containers ADD COLUMN health TEXT;              -- HealthState JSON, with a health check
  `,
  `
  -- User-defined networks (den network create) and which containers are attached to them. The
  -- default network, den, is a row of its own from the start (as podman's podman network), so every
  -- attachment names a network row. Attachments carry no foreign key to containers: the network
  -- library attaches any network namespace by a container id, and the engine forgets a container's
  -- attachments when it removes the container.
  CREATE TABLE networks (
    id          TEXT PRIMARY KEY,          -- 64 hex digits
    name        TEXT NOT NULL UNIQUE,
    driver      TEXT NOT NULL,             -- bridge
    interface   TEXT NOT NULL UNIQUE,      -- the bridge's name (den0 for den, else den + 10 hex of the id)
    subnets     TEXT NOT NULL,             -- JSON array of { subnet, gateway }, IPv4 CIDR
    internal    INTEGER NOT NULL,          -- 1: no route out, no NAT
    dns_enabled INTEGER NOT NULL,          -- 1: aardvark-dns answers the containers' names
    labels      TEXT NOT NULL,             -- JSON object
    options     TEXT NOT NULL,             -- JSON object (-o/--opt)
    created_at  TEXT NOT NULL
  );
  INSERT INTO networks VALUES (
    '8a8a1a9fe8565d64c5b8b27cb1f9c3dcb2ff7632bc715b805df124d668e3c9e3', 'den', 'bridge', 'den0',
    '[{"subnet":"10.88.0.0/16","gateway":"10.88.0.1"}]', 0, 0, '{}', '{}', '1970-01-01T00:00:00.000Z'
  );
  CREATE TABLE network_attachments (
    container_id TEXT NOT NULL,
    network_id   TEXT NOT NULL REFERENCES networks(id),
    name         TEXT NOT NULL,            -- the container's name, resolved by aardvark-dns
    aliases      TEXT NOT NULL,            -- JSON array of more names (--network-alias, --alias)
    ip           TEXT NOT NULL,            -- allocated when attached, kept while attached
    mac          TEXT,                     -- the address the interface has while set up, else NULL
    static_mac   TEXT,                     -- a MAC address asked for (--mac-address)
    interface    TEXT NOT NULL,            -- eth0, eth1, ... inside the container
    PRIMARY KEY (container_id, network_id),
    UNIQUE (network_id, ip)
  );
  CREATE INDEX network_attachments_by_network ON network_attachments(network_id);
  `,
  `
  -- Named volumes (den volume create, -v NAME:/path) and anonymous ones (the image's VOLUME, -v
  -- /path). Their files live under volumes/<name>/_data. Which containers use a volume is read from
  -- the containers' specs, in the transaction that removes it.
  CREATE TABLE volumes (
    name       TEXT PRIMARY KEY,
    driver     TEXT NOT NULL,              -- local
    labels     TEXT NOT NULL,              -- JSON object
    options    TEXT NOT NULL,              -- JSON object: the local driver's type, device, o
    anonymous  INTEGER NOT NULL,           -- 1: made for one container, removed with it by rm -v
    id_map     TEXT,                       -- rootless: the container maps its files are stored in (JSON); NULL: canonical
    populated  INTEGER NOT NULL DEFAULT 0, -- 1: filled from an image once (or used): never again
    created_at TEXT NOT NULL
  );
  `,
];
