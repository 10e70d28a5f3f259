-- PROD's own settings, written into the real Jira 8 dump (real-db/jira-8.x-pg11.sql.xz) so that a
-- sandbox "PROD" looks like a production Jira before a refresh rewrites its copy. The dump is a
-- real installation at http://10.0.0.10; what it lacks is PROD's identity and a link to PROD's
-- Confluence, so this file only changes values and adds those rows (loaded by
-- scripts/product-db.sh after the dump, before scripts/sql/prod-integrations-jira.sql).

-- Base URL, title, outgoing mail on (the dump has the rows: ids 10301, 10204, 10201).
UPDATE propertystring SET propertyvalue = 'https://jira.example.com'
    WHERE id = (SELECT id FROM propertyentry
                WHERE entity_name = 'jira.properties' AND entity_id = 1 AND property_key = 'jira.baseurl');
UPDATE propertystring SET propertyvalue = 'Jira'
    WHERE id = (SELECT id FROM propertyentry
                WHERE entity_name = 'jira.properties' AND entity_id = 1 AND property_key = 'jira.title');
UPDATE propertynumber SET propertyvalue = 0
    WHERE id = (SELECT id FROM propertyentry
                WHERE entity_name = 'jira.properties' AND entity_id = 1 AND property_key = 'jira.mail.send.disabled');

-- An application link to PROD's Confluence, stored as Jira stores app links (application
-- properties `applinks.global.application.ids` and `applinks.admin.<id>.*`). Ids above the
-- dump's OSPropertyEntry sequence (11000), which is then moved past them as Jira would.
INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype) VALUES
    (11010, 'jira.properties', 1, 'applinks.global.application.ids', 6),
    (11011, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.name', 5),
    (11012, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.type', 5),
    (11013, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.display.url', 5),
    (11014, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.rpc.url', 5),
    (11015, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.primary', 5);
INSERT INTO propertytext (id, propertyvalue) VALUES
    (11010, E'#java.util.List\n0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e');
INSERT INTO propertystring (id, propertyvalue) VALUES
    (11011, 'Confluence'),
    (11012, 'com.atlassian.applinks.application.confluence.ConfluenceApplicationTypeImpl'),
    (11013, 'https://confluence.example.com'),
    (11014, 'https://confluence.example.com'),
    (11015, 'true');
UPDATE sequence_value_item SET seq_id = 11100 WHERE seq_name = 'OSPropertyEntry';

-- PROD's own service account for the pipeline (`atlas-relay`, an administrator in Jira's internal
-- directory), as an operator creates it once in PROD: the smoke tests sign in with it. Its
-- password here is the sandbox's PROD one (`prod-service-sandbox`, in Atlassian's {PKCS5S2}
-- format: base64(16-byte salt ‖ PBKDF2-HMAC-SHA1(password, salt, 10,000, 32 bytes)), made with
-- Python's hashlib and a fixed salt). A refresh carries this row into DEV and UAT, where the
-- refresher gives the account the environment's own password before the first start.
INSERT INTO cwd_user (id, directory_id, user_name, lower_user_name, active, created_date, updated_date,
                      first_name, lower_first_name, last_name, lower_last_name, display_name, lower_display_name,
                      email_address, lower_email_address, credential, deleted_externally, external_id)
VALUES (10100, 1, 'atlas-relay', 'atlas-relay', 1, now(), now(), 'Atlas', 'atlas', 'Relay', 'relay',
        'Atlas Relay pipeline', 'atlas relay pipeline', 'atlas-relay@example.com', 'atlas-relay@example.com',
        '{PKCS5S2}AAECAwQFBgcICQoLDA0OD479pu2KNcsKj9DZSIq5kntVUlkEA+FdHZrR7R2XfWKA', 0,
        'a7c0e7b4-0c1d-4b8e-9f3a-atlasrelay01');
INSERT INTO app_user (id, user_key, lower_user_name) VALUES (10100, 'JIRAUSER10100', 'atlas-relay');
INSERT INTO cwd_membership (id, parent_id, child_id, membership_type, group_type, parent_name, lower_parent_name,
                            child_name, lower_child_name, directory_id) VALUES
    (10100, 10000, 10100, 'GROUP_USER', 'GROUP', 'jira-administrators', 'jira-administrators', 'atlas-relay', 'atlas-relay', 1),
    (10101, 10010, 10100, 'GROUP_USER', 'GROUP', 'jira-software-users', 'jira-software-users', 'atlas-relay', 'atlas-relay', 1);
UPDATE sequence_value_item SET seq_id = 10200 WHERE seq_name IN ('User', 'ApplicationUser', 'Membership');
