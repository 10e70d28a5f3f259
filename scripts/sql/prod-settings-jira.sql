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
