-- Per-guild configuration of each operation, and small key/value state for the bot itself.
-- A NULL column means "use the default", so changing a default in settings reaches every guild
-- that never chose otherwise.
CREATE TABLE guild_operation_config (
    guild_id         INTEGER NOT NULL,
    operation        TEXT    NOT NULL CHECK (operation IN ('imagine', 'edit', 'describe')),
    model            TEXT,
    only_providers   TEXT    NOT NULL DEFAULT '[]',
    ignore_providers TEXT    NOT NULL DEFAULT '[]',
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    max_references   INTEGER CHECK (max_references BETWEEN 1 AND 3),
    updated_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (guild_id, operation)
);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
