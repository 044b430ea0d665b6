DROP TABLE keyward_setting;
