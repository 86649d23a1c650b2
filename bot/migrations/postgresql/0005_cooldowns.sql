-- PostgreSQL's twin of ../0005_cooldowns.sql.
ALTER TABLE guild_operation_config
    ADD COLUMN cooldown_s INTEGER NOT NULL DEFAULT 0 CHECK (cooldown_s BETWEEN 0 AND 86400);
