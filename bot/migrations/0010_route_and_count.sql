-- Per operation: the OpenRouter route an admin forces for models both routes serve (NULL: chosen per
-- model from the catalogs), and the server's default and maximum image count per request (NULL: 1
-- and 4, the bot's defaults).
ALTER TABLE guild_operation_config ADD COLUMN route TEXT CHECK (route IN ('chat', 'images'));
ALTER TABLE guild_operation_config ADD COLUMN default_count INTEGER CHECK (default_count BETWEEN 1 AND 4);
ALTER TABLE guild_operation_config ADD COLUMN max_count INTEGER CHECK (max_count BETWEEN 1 AND 4);
