-- A version per project's key list, bumped by triggers (so in the same transaction)
-- whenever a key is added, removed, revoked, renamed or moved: anything that can change
-- which keys a list shows or where each one sits. Remembered page positions
-- (src/db/marks.rs) are used only while the version they were taken at is current.
-- The count triggers of migration key_counts stay as they are; these only bump versions.
-- Each makes sure the project's row exists, whichever of the triggers on the same
-- statement SQLite runs first.
ALTER TABLE keyward_project_key_count ADD COLUMN version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER keyward_project_key_version_insert AFTER INSERT ON project_key
BEGIN
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count SET version = version + 1
    WHERE project_id = NEW.project_id;
END;

CREATE TRIGGER keyward_project_key_version_update
AFTER UPDATE OF name, creation, revoked, project_id ON project_key
BEGIN
    INSERT OR IGNORE INTO keyward_project_key_count (project_id) VALUES (NEW.project_id);
    UPDATE keyward_project_key_count SET version = version + 1
    WHERE project_id IN (OLD.project_id, NEW.project_id);
END;

CREATE TRIGGER keyward_project_key_version_delete AFTER DELETE ON project_key
BEGIN
    UPDATE keyward_project_key_count SET version = version + 1
    WHERE project_id = OLD.project_id;
END;
