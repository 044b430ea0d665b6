-- The server's first user, claimed once: whoever inserts this one row is the first user
-- (and becomes admin). A primary key instead of "no user exists yet", so two signups at
-- once, even on two servers, cannot both be first.
CREATE TABLE keyward_first_user (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    user_id INTEGER NOT NULL
);
INSERT INTO keyward_first_user (id, user_id) SELECT 1, id FROM user ORDER BY id LIMIT 1;
