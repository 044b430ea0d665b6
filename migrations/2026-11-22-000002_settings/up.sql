-- Settings Keyward adopted from elsewhere (a Bencher import's JWT secret key and issuer).
-- A setting given by flag, environment or config file still wins over these.
CREATE TABLE keyward_setting (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    modified BIGINT NOT NULL
);
