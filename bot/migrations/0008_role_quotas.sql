-- Per-role daily quotas (`/config quota`). A member's daily allowance, for images and for USD
-- separately, is the most generous quota among their roles (the @everyone role, whose id is the
-- server's, included), or the server's member default in `guild_budgets` when none of their roles
-- has a quota for it. Each dimension is NULL (this role sets no quota for it), a number >= 0 (0
-- allows nothing) or the text 'unlimited'. A row always sets at least one of them.
CREATE TABLE guild_role_quotas (
    guild_id       INTEGER NOT NULL,
    role_id        INTEGER NOT NULL,
    images_per_day INTEGER CHECK (
        images_per_day IS NULL OR images_per_day = 'unlimited'
        OR (typeof(images_per_day) = 'integer' AND images_per_day >= 0)
    ),
    usd_per_day    REAL    CHECK (
        usd_per_day IS NULL OR usd_per_day = 'unlimited'
        OR (typeof(usd_per_day) IN ('integer', 'real') AND usd_per_day >= 0)
    ),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (guild_id, role_id),
    CHECK (images_per_day IS NOT NULL OR usd_per_day IS NOT NULL)
);
