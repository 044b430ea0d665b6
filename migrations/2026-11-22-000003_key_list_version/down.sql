DROP TRIGGER keyward_project_key_count_delete;
DROP TRIGGER keyward_project_key_order_update;
DROP TRIGGER keyward_project_key_count_update;
DROP TRIGGER keyward_project_key_count_insert;

CREATE TRIGGER keyward_project_key_count_insert AFTER INSERT ON project_key
BEGIN
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count
    SET live = live + (NEW.revoked IS NULL), revoked = revoked + (NEW.revoked IS NOT NULL)
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_count_update
AFTER UPDATE OF revoked, project_id ON project_key
BEGIN
    UPDATE keyward_project_key_count
    SET live = live - (OLD.revoked IS NULL), revoked = revoked - (OLD.revoked IS NOT NULL)
    WHERE project_id = OLD.project_id;
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count
    SET live = live + (NEW.revoked IS NULL), revoked = revoked + (NEW.revoked IS NOT NULL)
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_count_delete AFTER DELETE ON project_key
BEGIN
    UPDATE keyward_project_key_count
    SET live = live - (OLD.revoked IS NULL), revoked = revoked - (OLD.revoked IS NOT NULL)
    WHERE project_id = OLD.project_id;
END;

ALTER TABLE keyward_project_key_count DROP COLUMN version;
