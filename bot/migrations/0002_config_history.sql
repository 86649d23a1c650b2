-- Who changed which server setting, when, from what to what: the audit trail behind
-- `/config history`. Values are stored as members read them; NULL means "the default".
-- `operation` is 'server' for settings that belong to no one operation (such as budgets).
-- A reset is one row per operation (setting 'everything'), so `reset all` still reads clearly.
CREATE TABLE guild_config_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    user_name  TEXT    NOT NULL,
    operation  TEXT    NOT NULL CHECK (operation IN ('imagine', 'edit', 'describe', 'server')),
    setting    TEXT    NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    changed_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX guild_config_history_recent ON guild_config_history (guild_id, id DESC);
