DROP TABLE keyward_first_user;
