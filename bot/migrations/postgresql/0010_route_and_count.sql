-- PostgreSQL's twin of ../0010_route_and_count.sql.
ALTER TABLE guild_operation_config ADD COLUMN route TEXT CHECK (route IN ('chat', 'images'));
ALTER TABLE guild_operation_config ADD COLUMN default_count INTEGER CHECK (default_count BETWEEN 1 AND 4);
ALTER TABLE guild_operation_config ADD COLUMN max_count INTEGER CHECK (max_count BETWEEN 1 AND 4);
