-- Live and revoked key counts per project, kept exact by triggers in the same transaction
-- as every write to project_key, so an unfiltered list's X-Total-Count is one row read
-- instead of a scan of all of a project's keys.
CREATE TABLE keyward_project_key_count (
    project_id INTEGER PRIMARY KEY NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    live BIGINT NOT NULL DEFAULT 0,
    revoked BIGINT NOT NULL DEFAULT 0
);

INSERT INTO keyward_project_key_count (project_id, live, revoked)
SELECT project_id, SUM(revoked IS NULL), SUM(revoked IS NOT NULL)
FROM project_key
GROUP BY project_id;

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
