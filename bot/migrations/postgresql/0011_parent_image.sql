-- PostgreSQL's twin of ../0011_parent_image.sql: which image of its parent a job was made from, and
-- how; and whether the member gave the seed (1) or the bot picked it (0).
ALTER TABLE jobs ADD COLUMN parent_image_index INTEGER CHECK (parent_image_index >= 1);
ALTER TABLE jobs ADD COLUMN parent_action TEXT CHECK (parent_action IN ('upscale', 'vary', 'edit', 'describe'));
ALTER TABLE jobs ADD COLUMN seed_given SMALLINT NOT NULL DEFAULT 0 CHECK (seed_given IN (0, 1));
