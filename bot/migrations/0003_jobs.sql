-- Every command run (and every result-button run) is a job: what was asked, with which model and
-- providers, from which reference images, and where its result went. Result buttons carry only the
-- job id, so after a restart this row is all they have to redo or reuse the work. Attachment URLs
-- expire, so a reference keeps its message and attachment ids to be re-fetched, not just its URL.
-- Times are ISO-8601 UTC text from the job service's clock.
CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER,                          -- NULL in direct messages
    channel_id        INTEGER,
    member_id         INTEGER NOT NULL,
    operation         TEXT    NOT NULL CHECK (operation IN ('imagine', 'edit', 'describe')),
    prompt            TEXT    NOT NULL DEFAULT '',
    image_format      TEXT,                             -- an ImageFormat value, NULL when not asked
    aspect_ratio      TEXT,
    model             TEXT    NOT NULL,
    provider_filter   TEXT    NOT NULL DEFAULT '{}',    -- JSON {"only": [...], "ignore": [...]}
    reference_images  TEXT    NOT NULL DEFAULT '[]',    -- JSON [{"url", "filename", "message_id", ...}]
    parent_job_id     INTEGER REFERENCES jobs (id) ON DELETE SET NULL,
    status            TEXT    NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'running', 'done', 'failed')),
    result_channel_id INTEGER,
    result_message_id INTEGER,
    result_files      TEXT    NOT NULL DEFAULT '[]',    -- JSON list of attachment filenames
    result_deleted    INTEGER NOT NULL DEFAULT 0 CHECK (result_deleted IN (0, 1)),
    cost              REAL,                             -- USD as OpenRouter reported it; NULL if not
    generation_id     TEXT,
    error_kind        TEXT,                             -- the exception's type name, or 'cancelled'
    created_at        TEXT    NOT NULL,
    started_at        TEXT,
    finished_at       TEXT,
    upstream_ms       INTEGER
);

-- `/jobs`: a member's latest jobs in one server.
CREATE INDEX jobs_member_recent ON jobs (guild_id, member_id, id DESC);
