-- PostgreSQL's twin of ../0009_request_options.sql.
ALTER TABLE jobs ADD COLUMN route TEXT NOT NULL DEFAULT 'chat' CHECK (route IN ('chat', 'images'));
ALTER TABLE jobs ADD COLUMN resolution TEXT;
ALTER TABLE jobs ADD COLUMN quality TEXT;
ALTER TABLE jobs ADD COLUMN image_count INTEGER NOT NULL DEFAULT 1 CHECK (image_count >= 1);
ALTER TABLE jobs ADD COLUMN seed BIGINT;
