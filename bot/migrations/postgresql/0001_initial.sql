-- PostgreSQL's twin of ../0001_initial.sql (same tables, columns and meanings; see there).
-- Representations are kept as SQLite has them so that repositories write their SQL once and a copy
-- between the two is a plain row copy: flags are 0/1 SMALLINTs, times ISO-8601 UTC text, Discord ids
-- BIGINT (snowflakes need 64 bits).
CREATE TABLE guild_operation_config (
    guild_id         BIGINT   NOT NULL,
    operation        TEXT     NOT NULL CHECK (operation IN ('imagine', 'edit', 'describe')),
    model            TEXT,
    only_providers   TEXT     NOT NULL DEFAULT '[]',
    ignore_providers TEXT     NOT NULL DEFAULT '[]',
    enabled          SMALLINT NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    max_references   INTEGER  CHECK (max_references BETWEEN 1 AND 3),
    updated_at       TEXT     NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    PRIMARY KEY (guild_id, operation)
);

CREATE TABLE bot_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
