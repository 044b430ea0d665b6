-- Keyward's schema. Tables and columns carry Bencher's names and types so that an existing
-- Bencher database can be imported row for row. Timestamps are Unix seconds (UTC).

CREATE TABLE user (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    email TEXT NOT NULL UNIQUE,
    admin BOOLEAN NOT NULL,
    locked BOOLEAN NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL
);

CREATE TABLE organization (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    license TEXT UNIQUE,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    deleted BIGINT
);
CREATE INDEX index_organization_not_deleted ON organization(id) WHERE deleted IS NULL;

CREATE TABLE organization_role (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES user (id),
    organization_id INTEGER NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    UNIQUE(user_id, organization_id)
);
-- Members of an organization are listed by organization.
CREATE INDEX index_organization_role_organization ON organization_role(organization_id, user_id);

CREATE TABLE project (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    organization_id INTEGER NOT NULL REFERENCES organization (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    url TEXT,
    visibility INTEGER NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    deleted BIGINT,
    UNIQUE(organization_id, name)
);
CREATE INDEX index_project_organization_created ON project(organization_id, created);
CREATE INDEX index_project_not_deleted ON project(id) WHERE deleted IS NULL;

CREATE TABLE project_role (
    id INTEGER PRIMARY KEY NOT NULL,
    user_id INTEGER NOT NULL REFERENCES user (id),
    project_id INTEGER NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    UNIQUE(user_id, project_id)
);

CREATE TABLE token (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES user (id),
    name TEXT NOT NULL,
    jwt TEXT NOT NULL,
    creation BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    revoked BIGINT
);
-- The revocation check of an `api_key` JWT looks the token up by (user, jwt).
CREATE INDEX index_token_user_jwt ON token(user_id, jwt);
-- Lists filter on (user, revoked state) and order by name then expiration: one index
-- serves the filter, the order and the count (covering), and the user foreign key.
CREATE INDEX index_token_user_list ON token(user_id, revoked, name, expiration);

CREATE TABLE project_key (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    project_id INTEGER NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    creator_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    creation BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    revoked BIGINT
);
CREATE UNIQUE INDEX index_project_key_hash ON project_key(key_hash);
-- Lists filter on (project, revoked state) and order by name then creation: one index
-- serves the filter, the order and the count (covering), and the project foreign key.
CREATE INDEX index_project_key_project_list ON project_key(project_id, revoked, name, creation);
CREATE INDEX index_project_key_creator ON project_key(creator_id);

CREATE TABLE user_key (
    id INTEGER PRIMARY KEY NOT NULL,
    uuid TEXT NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL,
    creation BIGINT NOT NULL,
    expiration BIGINT NOT NULL,
    revoked BIGINT
);
CREATE UNIQUE INDEX index_user_key_hash ON user_key(key_hash);
CREATE INDEX index_user_key_user_list ON user_key(user_id, revoked, name, creation);

CREATE TABLE server (
    id INTEGER PRIMARY KEY NOT NULL DEFAULT 1 CHECK (id = 1),
    uuid TEXT NOT NULL UNIQUE,
    created BIGINT NOT NULL
);

-- Keyward's own: the JWT signing secret generated on first start when none is configured.
CREATE TABLE keyward_secret (
    id INTEGER PRIMARY KEY NOT NULL DEFAULT 1 CHECK (id = 1),
    secret_key TEXT NOT NULL,
    created BIGINT NOT NULL
);
