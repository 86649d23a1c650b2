-- What each upstream call cost, and each server's daily budgets.
-- One ledger row per upstream call, written in the same transaction as its job's completion, so the
-- ledger and the jobs can never disagree. A failed call costs 0 unless OpenRouter reported a cost.
-- `day` is the UTC date of the call: budgets roll over at 00:00 UTC and `/usage` groups by it.
CREATE TABLE usage_ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id        INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    guild_id      INTEGER,
    member_id     INTEGER NOT NULL,
    operation     TEXT    NOT NULL CHECK (operation IN ('imagine', 'edit', 'describe')),
    model         TEXT    NOT NULL,
    generation_id TEXT,
    cost          REAL    NOT NULL DEFAULT 0 CHECK (cost >= 0),
    cost_reported INTEGER NOT NULL DEFAULT 0 CHECK (cost_reported IN (0, 1)),
    images        INTEGER NOT NULL DEFAULT 0 CHECK (images >= 0),
    succeeded     INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    created_at    TEXT    NOT NULL,
    day           TEXT    NOT NULL
);

CREATE INDEX usage_ledger_guild_day ON usage_ledger (guild_id, day);
CREATE INDEX usage_ledger_member_day ON usage_ledger (guild_id, member_id, day);
CREATE INDEX usage_ledger_model_recent ON usage_ledger (model, id DESC);

-- Per-server daily limits; NULL means no limit. Checked before every upstream call.
CREATE TABLE guild_budgets (
    guild_id            INTEGER PRIMARY KEY,
    guild_daily_usd     REAL    CHECK (guild_daily_usd > 0),
    member_daily_usd    REAL    CHECK (member_daily_usd > 0),
    member_daily_images INTEGER CHECK (member_daily_images > 0),
    updated_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
