-- What running jobs hold against daily budgets, for a database that several processes share.
-- A job's estimated cost is reserved here when it is admitted, in the same transaction that read the
-- day's ledger (under a per-guild lock), and the row is deleted once its real cost is in the ledger;
-- so processes serving one guild together pass a limit by at most one estimate. `counts_guild` and
-- `counts_member` say which limits the job was checked against. A process that dies leaves its rows,
-- which stop counting at `expires_at` (ISO-8601 UTC text, as `created_at`) or are dropped at the next
-- start on the same host (`owner`, as in `jobs`). A single SQLite process keeps its reservations in
-- memory instead (bot/budgets.py); the table is here so both dialects have the same schema.
CREATE TABLE budget_reservations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id      INTEGER NOT NULL,
    member_id     INTEGER NOT NULL,
    counts_guild  INTEGER NOT NULL CHECK (counts_guild IN (0, 1)),
    counts_member INTEGER NOT NULL CHECK (counts_member IN (0, 1)),
    cost          REAL    NOT NULL DEFAULT 0 CHECK (cost >= 0),
    images        INTEGER NOT NULL DEFAULT 0 CHECK (images >= 0),
    unknown_cost  INTEGER NOT NULL DEFAULT 0 CHECK (unknown_cost IN (0, 1)),
    owner         TEXT,
    created_at    TEXT    NOT NULL,
    expires_at    TEXT    NOT NULL
);

CREATE INDEX budget_reservations_guild ON budget_reservations (guild_id, member_id);
