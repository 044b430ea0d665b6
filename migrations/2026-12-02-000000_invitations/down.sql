DROP TABLE keyward_invitation_used;
