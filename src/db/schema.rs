// @generated automatically by Diesel CLI.

diesel::table! {
    // On PostgreSQL also `stripe` (part of its key): a project has up to 16 rows there, read
    // as sums (db/credentials/project_list_queries.rs).
    keyward_project_key_count (project_id) {
        project_id -> Integer,
        live -> BigInt,
        revoked -> BigInt,
        version -> BigInt,
    }
}

diesel::table! {
    keyward_first_user (id) {
        id -> Integer,
        user_id -> Integer,
    }
}

diesel::table! {
    keyward_invitation_used (token_hash) {
        token_hash -> Text,
        user_id -> Integer,
        used -> BigInt,
    }
}

diesel::table! {
    keyward_setting (name) {
        name -> Text,
        value -> Text,
        modified -> BigInt,
    }
}

diesel::table! {
    keyward_secret (id) {
        id -> Integer,
        secret_key -> Text,
        created -> BigInt,
    }
}

diesel::table! {
    organization (id) {
        id -> Integer,
        uuid -> Text,
        name -> Text,
        slug -> Text,
        license -> Nullable<Text>,
        created -> BigInt,
        modified -> BigInt,
        deleted -> Nullable<BigInt>,
    }
}

diesel::table! {
    organization_role (id) {
        id -> Integer,
        user_id -> Integer,
        organization_id -> Integer,
        role -> Text,
        created -> BigInt,
        modified -> BigInt,
    }
}

diesel::table! {
    project (id) {
        id -> Integer,
        uuid -> Text,
        organization_id -> Integer,
        name -> Text,
        slug -> Text,
        url -> Nullable<Text>,
        visibility -> Integer,
        created -> BigInt,
        modified -> BigInt,
        deleted -> Nullable<BigInt>,
    }
}

diesel::table! {
    project_key (id) {
        id -> Integer,
        uuid -> Text,
        project_id -> Integer,
        creator_id -> Nullable<Integer>,
        name -> Text,
        key_hash -> Text,
        creation -> BigInt,
        expiration -> BigInt,
        revoked -> Nullable<BigInt>,
    }
}

diesel::table! {
    project_role (id) {
        id -> Integer,
        user_id -> Integer,
        project_id -> Integer,
        role -> Text,
        created -> BigInt,
        modified -> BigInt,
    }
}

diesel::table! {
    server (id) {
        id -> Integer,
        uuid -> Text,
        created -> BigInt,
    }
}

diesel::table! {
    token (id) {
        id -> Integer,
        uuid -> Text,
        user_id -> Integer,
        name -> Text,
        jwt -> Text,
        creation -> BigInt,
        expiration -> BigInt,
        revoked -> Nullable<BigInt>,
    }
}

diesel::table! {
    user (id) {
        id -> Integer,
        uuid -> Text,
        name -> Text,
        slug -> Text,
        email -> Text,
        admin -> Bool,
        locked -> Bool,
        created -> BigInt,
        modified -> BigInt,
    }
}

diesel::table! {
    user_key (id) {
        id -> Integer,
        uuid -> Text,
        user_id -> Integer,
        name -> Text,
        key_hash -> Text,
        creation -> BigInt,
        expiration -> BigInt,
        revoked -> Nullable<BigInt>,
    }
}

diesel::joinable!(organization_role -> organization (organization_id));
diesel::joinable!(organization_role -> user (user_id));
diesel::joinable!(project -> organization (organization_id));
diesel::joinable!(project_key -> project (project_id));
diesel::joinable!(project_key -> user (creator_id));
diesel::joinable!(project_role -> project (project_id));
diesel::joinable!(project_role -> user (user_id));
diesel::joinable!(token -> user (user_id));
diesel::joinable!(user_key -> user (user_id));

diesel::joinable!(keyward_project_key_count -> project (project_id));

diesel::allow_tables_to_appear_in_same_query!(
    keyward_first_user,
    keyward_invitation_used,
    keyward_project_key_count,
    keyward_secret,
    keyward_setting,
    organization,
    organization_role,
    project,
    project_key,
    project_role,
    server,
    token,
    user,
    user_key,
);
