DROP TABLE keyward_project_key_count, keyward_first_user, keyward_invitation_used,
    keyward_setting, keyward_secret, server, user_key, project_key, token, project_role,
    project, organization_role, organization, "user";
DROP FUNCTION keyward_project_key_counted();
