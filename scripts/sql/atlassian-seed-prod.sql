-- A small "PROD" data set for the tables in atlassian-schema.sql: what a restored PROD dump
-- looks like before the refresh rewrites it.

-- Jira (propertytype: 1 number, 5 string, 6 text)
INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype) VALUES
    (10000, 'jira.properties', 1, 'jira.title', 5),
    (10001, 'jira.properties', 1, 'jira.baseurl', 5),
    (10002, 'jira.properties', 1, 'jira.lf.top.bgcolour', 5),
    (10003, 'jira.properties', 1, 'jira.lf.top.textcolour', 5),
    (10004, 'jira.properties', 1, 'jira.mail.send.disabled', 1),
    (10005, 'jira.properties', 1, 'jira.alertheader', 6),
    (10006, 'jira.properties', 1, 'jira.alertheader.visibility', 5);
INSERT INTO propertystring (id, propertyvalue) VALUES
    (10000, 'Jira'),
    (10001, 'https://jira.example.com'),
    (10002, '#205081'),
    (10003, '#ffffff'),
    (10006, 'public');
INSERT INTO propertynumber (id, propertyvalue) VALUES (10004, 0);
INSERT INTO propertytext (id, propertyvalue) VALUES (10005, '');
INSERT INTO sequence_value_item (seq_name, seq_id) VALUES ('OSPropertyEntry', 10100);

-- Confluence
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (1, '_GLOBAL', 'atlassian.confluence.settings', '<settings>
  <doNotSave>false</doNotSave>
  <allowCamelCase>false</allowCamelCase>
  <baseUrl>https://confluence.example.com</baseUrl>
  <siteTitle>Confluence</siteTitle>
  <emailAddressVisibility>email.address.public</emailAddressVisibility>
  <customHtmlSettings>
    <beforeHeadEnd></beforeHeadEnd>
    <afterBodyStart></afterBodyStart>
    <beforeBodyEnd></beforeBodyEnd>
  </customHtmlSettings>
  <maxAttachmentSize>104857600</maxAttachmentSize>
</settings>');
INSERT INTO hibernate_unique_key (next_hi) VALUES (1);

-- Application links: PROD's Jira links to PROD's Confluence and back.
INSERT INTO propertyentry (id, entity_name, entity_id, property_key, propertytype) VALUES
    (10010, 'jira.properties', 1, 'applinks.global.application.ids', 6),
    (10011, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.name', 5),
    (10012, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.type', 5),
    (10013, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.display.url', 5),
    (10014, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.rpc.url', 5),
    (10015, 'jira.properties', 1, 'applinks.admin.0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e.primary', 5);
INSERT INTO propertytext (id, propertyvalue) VALUES
    (10010, E'#java.util.List\n0b2c5b3e-6c8a-3d7e-9f41-5a1e2b3c4d5e');
INSERT INTO propertystring (id, propertyvalue) VALUES
    (10011, 'Confluence'),
    (10012, 'com.atlassian.applinks.application.confluence.ConfluenceApplicationTypeImpl'),
    (10013, 'https://confluence.example.com'),
    (10014, 'https://confluence.example.com'),
    (10015, 'true');
INSERT INTO bandana (bandanaid, bandanacontext, bandanakey, bandanavalue) VALUES
    (2, '_GLOBAL', 'applinks.global.application.ids', '<list><string>2841b105-5904-3c0a-9710-1ff26ae88206</string></list>'),
    (3, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.name', '<string>Jira</string>'),
    (4, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.type',
        '<string>com.atlassian.applinks.application.jira.JiraApplicationTypeImpl</string>'),
    (5, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.display.url', '<string>https://jira.example.com</string>'),
    (6, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.rpc.url', '<string>https://jira.example.com</string>'),
    (7, '_GLOBAL', 'applinks.admin.2841b105-5904-3c0a-9710-1ff26ae88206.primary', '<string>true</string>');
