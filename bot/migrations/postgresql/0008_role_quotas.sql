-- PostgreSQL's twin of ../0008_role_quotas.sql. SQLite keeps a number or the text 'unlimited' in one
-- column; here both dimensions are TEXT holding the number's decimal form or 'unlimited' (the
-- repository writes `str(value)` on both, which SQLite's column affinity turns back into a number).
CREATE TABLE guild_role_quotas (
    guild_id       BIGINT NOT NULL,
    role_id        BIGINT NOT NULL,
    images_per_day TEXT CHECK (
        images_per_day IS NULL OR images_per_day = 'unlimited' OR images_per_day ~ '^[0-9]+$'
    ),
    usd_per_day    TEXT CHECK (
        usd_per_day IS NULL OR usd_per_day = 'unlimited'
        OR usd_per_day ~ '^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$'
    ),
    updated_at     TEXT NOT NULL DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
    PRIMARY KEY (guild_id, role_id),
    CHECK (images_per_day IS NOT NULL OR usd_per_day IS NOT NULL)
);
