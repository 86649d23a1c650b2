-- The rest of a job's ImageRequest (bot/requests.py): which OpenRouter route served it and the
-- options the Images API brings. Rows written before this migration were all chat-route, one-image
-- requests without these options, which the defaults say.
ALTER TABLE jobs ADD COLUMN route TEXT NOT NULL DEFAULT 'chat' CHECK (route IN ('chat', 'images'));
ALTER TABLE jobs ADD COLUMN resolution TEXT;
ALTER TABLE jobs ADD COLUMN quality TEXT;
ALTER TABLE jobs ADD COLUMN image_count INTEGER NOT NULL DEFAULT 1 CHECK (image_count >= 1);
ALTER TABLE jobs ADD COLUMN seed INTEGER;
