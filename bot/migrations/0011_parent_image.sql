-- Which image of its parent job a job was made from (1-based; NULL: no parent, or the whole result), and
-- how (`upscale`, `vary`, `edit`, `describe` of one image of a grid; NULL for the other kinds of child: a re-roll, an
-- edit or describe of a single image). /jobs shows "Upscale of image 2 of job #12".
ALTER TABLE jobs ADD COLUMN parent_image_index INTEGER CHECK (parent_image_index >= 1);
ALTER TABLE jobs ADD COLUMN parent_action TEXT CHECK (parent_action IN ('upscale', 'vary', 'edit', 'describe'));
-- Whether the member gave the job's seed (1) or the bot picked it (0): a re-roll keeps a given seed and
-- picks a new one otherwise. Rows from before did not record it; they re-roll with a new seed, as before.
ALTER TABLE jobs ADD COLUMN seed_given INTEGER NOT NULL DEFAULT 0 CHECK (seed_given IN (0, 1));
