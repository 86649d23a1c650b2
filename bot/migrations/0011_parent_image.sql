-- Which image of its parent job a job was made from (1-based, NULL: the parent's only or first image,
-- or no parent), and how (`upscale`, `vary`; NULL for the older kinds of child: re-roll, edit, describe,
-- which the job's own operation and title already say). /jobs shows "Upscale of image 2 of job #12".
ALTER TABLE jobs ADD COLUMN parent_image_index INTEGER CHECK (parent_image_index >= 1);
ALTER TABLE jobs ADD COLUMN parent_action TEXT CHECK (parent_action IN ('upscale', 'vary'));
