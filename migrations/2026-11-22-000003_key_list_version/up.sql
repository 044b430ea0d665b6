-- A version per project's key list, bumped by the same triggers (so in the same
-- transaction) whenever a key is added, removed, revoked, renamed or moved: anything that
-- can change which keys a list shows or where each one sits. Remembered page positions
-- (src/db/marks.rs) are used only while the version they were taken at is current.
ALTER TABLE keyward_project_key_count ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

DROP TRIGGER keyward_project_key_count_insert;
DROP TRIGGER keyward_project_key_count_update;
DROP TRIGGER keyward_project_key_count_delete;

CREATE TRIGGER keyward_project_key_count_insert AFTER INSERT ON project_key
BEGIN
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count
    SET live = live + (NEW.revoked IS NULL), revoked = revoked + (NEW.revoked IS NOT NULL),
        version = version + 1
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_count_update
AFTER UPDATE OF revoked, project_id ON project_key
BEGIN
    UPDATE keyward_project_key_count
    SET live = live - (OLD.revoked IS NULL), revoked = revoked - (OLD.revoked IS NOT NULL),
        version = version + 1
    WHERE project_id = OLD.project_id;
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count
    SET live = live + (NEW.revoked IS NULL), revoked = revoked + (NEW.revoked IS NOT NULL),
        version = version + 1
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_order_update
AFTER UPDATE OF name, creation ON project_key
BEGIN
    UPDATE keyward_project_key_count SET version = version + 1
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_count_delete AFTER DELETE ON project_key
BEGIN
    UPDATE keyward_project_key_count
    SET live = live - (OLD.revoked IS NULL), revoked = revoked - (OLD.revoked IS NOT NULL),
        version = version + 1
    WHERE project_id = OLD.project_id;
END;
