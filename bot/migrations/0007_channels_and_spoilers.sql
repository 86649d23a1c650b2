-- Where a server lets the bot be used (`/config channels`) and whether results are spoilered
-- (`/config spoilers`).
--
-- A server with no row for an operation lets it run in every channel. `scope` 'all' lists channels
-- every operation may use; a per-operation scope adds channels for that operation only, so an
-- operation runs in the union of both lists. Threads and forum posts count as their parent channel,
-- so only channels are listed. `name` is the channel's name when it was added: the channel may be
-- deleted later, and the list and the history must still be able to say which one it was.
CREATE TABLE guild_allowed_channels (
    guild_id   INTEGER NOT NULL,
    scope      TEXT    NOT NULL CHECK (scope IN ('all', 'imagine', 'edit', 'describe')),
    channel_id INTEGER NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    added_at   TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (guild_id, scope, channel_id)
);

-- Settings that belong to a whole server rather than one operation; one row per server that chose
-- anything, the defaults otherwise. `spoilers`: 'off' (only when a member asks), 'always', or
-- 'outside-age-restricted' (everywhere except channels Discord marks age-restricted).
CREATE TABLE guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    spoilers   TEXT    NOT NULL DEFAULT 'off'
                       CHECK (spoilers IN ('off', 'always', 'outside-age-restricted')),
    updated_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
